"""Typed calls on the synchronous client (aiogoogle.sync) that mypy --strict and pyright
strict accept without a cast or an ignore, and that run against the local Google server
(tests/test_stubs_typecheck.py runs both): ``discover(..., typed=...)`` gives the stub's
API class, one ``Request[T]`` sent gives a ``T``, ``full_res=True`` a ``Response[T]``
whose ``pages()`` are ``T``s.
"""

from __future__ import annotations

from typing import Any

from aiogoogle_apis.drive_v3 import DriveV3, File, FileList
from aiogoogle_apis.storage_v1 import Bucket, Object, Objects, StorageV1

from aiogoogle import DiscoveryEndpoints, GoogleAPI, Response
from aiogoogle.auth import Endpoints
from aiogoogle.sync import Aiogoogle


def describe(api: GoogleAPI) -> str:
    """Code written for any API (annotated GoogleAPI) takes a typed one too."""
    return str(api.discovery_document.get("id", ""))


def run(root_url: str, user_creds: dict[str, Any]) -> dict[str, Any]:
    """Store, list and page through the typed API objects; return what was seen."""
    with Aiogoogle(user_creds=user_creds, discovery_cache=False, discovery_endpoints=DiscoveryEndpoints.at(root_url),
                   auth_endpoints=Endpoints.at(root_url)) as ag:
        storage = ag.discover("storage", "v1", typed=StorageV1)
        bucket: Bucket = ag.as_user(storage.buckets.insert(project="sync-project", json={"name": "sync-bucket"}))
        bucket_name = bucket.get("name", "")
        stored: list[Object] = [
            ag.as_user(storage.objects.insert(bucket=bucket_name, name=name, upload_file=name.encode(),
                                              upload_file_content_type="text/plain"))
            for name in ("a.txt", "b.txt")
        ]
        listed: Objects = ag.as_user(storage.objects.list(bucket=bucket_name, maxResults=10), timeout=30)
        first: Response[Objects] = ag.as_user(storage.objects.list(bucket=bucket_name, maxResults=1), full_res=True)
        paged = [item.get("name", "") for page in ag.pages(first) for item in page.get("items", [])]
        again: Response[Objects] = ag.as_user(storage.objects.list(bucket=bucket_name, maxResults=1), full_res=True)
        items = [item.get("name") for item in ag.items(again)]

        drive = ag.discover("drive", "v3", typed=DriveV3)
        metadata: File = {"name": "sync.txt", "mimeType": "text/plain"}
        created: File = ag.as_user(drive.files.create(json=metadata, upload_file=b"synchronous"))
        found: FileList = ag.as_user(drive.files.list(pageSize=10, q="name = 'sync.txt'"))
        untyped = ag.discover("storage", "v1")  # without typed=: a GoogleAPI, as before
    return {
        "bucket": bucket_name,
        "stored": [o.get("name") for o in stored],
        "listed": [o.get("name") for o in listed.get("items", [])],
        "paged": paged,
        "items": items,
        "file": created.get("name"),
        "found": [f.get("name") for f in found.get("files", [])],
        "described": (describe(storage), describe(untyped)),
    }
