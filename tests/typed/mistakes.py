"""Deliberate mistakes: mypy and pyright must each report errors on exactly the lines
marked ``# error: <what> [<name>]``, naming ``<name>``, and nowhere else
(tests/test_stubs_typecheck.py)."""

from __future__ import annotations

from aiogoogle_apis.calendar_v3 import CalendarV3
from aiogoogle_apis.drive_v3 import DriveV3
from aiogoogle_apis.storage_v1 import Bucket, StorageV1

from aiogoogle import Aiogoogle, GoogleAPI
from aiogoogle.sync import Aiogoogle as SyncAiogoogle


def takes_any_api(api: GoogleAPI) -> None:
    """A typed API passes where a GoogleAPI is annotated (no error)."""


async def mistakes(ag: Aiogoogle) -> None:
    drive = await ag.discover("drive", "v3", typed=DriveV3)
    storage = await ag.discover("storage", "v1", typed=StorageV1)
    calendar = await ag.discover("calendar", "v3", typed=CalendarV3)
    drive.files.list(pagesize=10)  # error: misspelled parameter [pagesize]
    calendar.events.list(calendarId="primary", orderBy="start")  # error: wrong enum literal [orderBy]
    storage.buckets.insert(project="p", json={"name": "b", "versioning": {"enabled": "yes"}})  # error: wrong body field type [json]
    storage.objects.list()  # error: missing required parameter [bucket]
    files = await ag.as_user(drive.files.list(pageSize=10))
    print(files["nextPageTokn"])  # error: wrong result field [nextPageTokn]
    takes_any_api(drive)
    drive.filez.list()  # error: misspelled resource [filez]


def sync_mistakes(ag: SyncAiogoogle) -> None:
    storage = ag.discover("storage", "v1", typed=StorageV1)
    takes_any_api(storage)
    bucket: Bucket = ag.as_user(storage.objects.list(bucket="b"))  # error: a list of objects is no bucket [Bucket]
    print(bucket)
