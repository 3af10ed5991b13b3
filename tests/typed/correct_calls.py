"""Typed calls that mypy --strict and pyright strict accept without a cast or an ignore,
and that run against the local Google server (tests/test_stubs_typecheck.py runs both).

The API objects come from ``discover(..., typed=...)`` with the ready-made stubs of
``aiogoogle_apis``; every result below has its schema's type (``reveal_type`` would show
``Bucket``, ``Objects``, ``FileList``, ``Events``).
"""

from __future__ import annotations

import os
from typing import Any

from aiogoogle_apis.calendar_v3 import CalendarV3, Event, Events
from aiogoogle_apis.drive_v3 import DriveV3, File, FileList
from aiogoogle_apis.storage_v1 import Bucket, Object, Objects, StorageV1

from aiogoogle import Aiogoogle, DiscoveryEndpoints, Response
from aiogoogle.auth import Endpoints


async def run(root_url: str, user_creds: dict[str, Any], folder: str) -> dict[str, Any]:
    """Store, list and read back through the typed API objects; return what was seen."""
    async with Aiogoogle(user_creds=user_creds, discovery_cache=False, discovery_endpoints=DiscoveryEndpoints.at(root_url),
                         auth_endpoints=Endpoints.at(root_url)) as ag:
        storage = await ag.discover("storage", "v1", typed=StorageV1)
        bucket: Bucket = await ag.as_user(storage.buckets.insert(project="typed-project", json={"name": "typed-bucket"}))
        bucket_name = bucket.get("name", "")
        uploaded: Object = await ag.as_user(
            storage.objects.insert(bucket=bucket_name, name="hello.txt", upload_file=b"hello typed world",
                                   upload_file_content_type="text/plain")
        )
        listed: Objects = await ag.as_user(storage.objects.list(bucket=bucket_name, maxResults=10, projection="full"))
        names = [item.get("name", "") for item in listed.get("items", [])]
        target = os.path.join(folder, "hello.txt")
        # A download's result is None (Request[None]): the media went to the file.
        await ag.as_user(storage.objects.get(bucket=bucket_name, object="hello.txt", download_file=target))
        pages: Response[Objects] = await ag.as_user(storage.objects.list(bucket=bucket_name, maxResults=1), full_res=True)
        paged: list[str] = []
        async for page in pages:
            paged.extend(item.get("name", "") for item in page.get("items", []))

        drive = await ag.discover("drive", "v3", typed=DriveV3)
        metadata: File = {"name": "notes.txt", "mimeType": "text/plain"}
        created: File = await ag.as_user(drive.files.create(json=metadata, upload_file=b"some notes"))
        found: FileList = await ag.as_user(drive.files.list(pageSize=10, q="name = 'notes.txt'", orderBy="name"))

        calendar = await ag.discover("calendar", "v3", typed=CalendarV3)
        event: Event = {"summary": "Typed", "start": {"dateTime": "2030-01-01T10:00:00Z"}, "end": {"dateTime": "2030-01-01T11:00:00Z"}}
        stored: Event = await ag.as_user(calendar.events.insert(calendarId="primary", json=event))
        events: Events = await ag.as_user(
            calendar.events.list(calendarId="primary", singleEvents=True, orderBy="startTime", maxResults=5)
        )
    with open(target, "rb") as fh:
        content = fh.read()
    return {
        "bucket": bucket_name,
        "object": uploaded.get("name"),
        "size": uploaded.get("size"),
        "listed": names,
        "downloaded": content,
        "paged": paged,
        "file": (created.get("name"), created.get("id") is not None),
        "found": [f.get("name") for f in found.get("files", [])],
        "event": stored.get("summary"),
        "events": [e.get("summary") for e in events.get("items", [])],
    }
