"""The fake Google APIs of ``LocalGoogleServer(fake_apis=True)`` (``aiogoogle serve``), over
plain HTTP against an in-process server: Google's paths, parameters, reply shapes and
errors, state across calls, credentials checked. The command line and the examples drive
the same server in tests/test_serve.py and tests/test_examples.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiogoogle.testing import LocalGoogleServer


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer(fake_apis=True) as server:
        yield server


@dataclass
class Fake:
    """The server, reset, and the credentials it wrote."""

    server: LocalGoogleServer
    creds: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url


def fresh(server: LocalGoogleServer, folder: Path) -> Fake:
    server.reset()
    return Fake(server, server.write_credentials(str(folder)))


@pytest.fixture
def server(fake: LocalGoogleServer, tmp_path: Path) -> Fake:
    return fresh(fake, tmp_path / "creds")


class Reply:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def reason(self) -> str:
        return str(self.json()["error"]["errors"][0]["reason"])

    @property
    def message(self) -> str:
        return str(self.json()["error"]["message"])


def http(server: Fake, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
         headers: dict[str, str] | None = None, auth: str | None = "key", **query: str) -> Reply:
    """One request; ``auth``: ``"key"`` (the issued API key), ``"bearer:TOKEN"`` or None."""
    params = dict(query)
    hdrs = dict(headers or {})
    if auth == "key":
        params["key"] = server.creds["AIOGOOGLE_API_KEY"]
    elif auth is not None and auth.startswith("bearer:"):
        hdrs["Authorization"] = "Bearer " + auth[len("bearer:"):]
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if body is not None:
        hdrs.setdefault("Content-Type", "application/json")
    url = server.url + path.lstrip("/") + ("?" + urllib.parse.urlencode(params) if params else "")
    request = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.headers, exc.read())


def bucket(server: Fake, name: str = "my-bucket") -> None:
    assert http(server, "POST", "storage/v1/b", {"name": name}, project="p").status == 200


def put(server: Fake, name: str, data: bytes = b"x", bucket_name: str = "my-bucket", **query: str) -> Reply:
    return http(server, "POST", f"upload/storage/v1/b/{bucket_name}/o", raw=data, uploadType="media", name=name, **query)


def names(reply: Reply) -> list[str]:
    return [o["name"] for o in reply.json().get("items", [])]


# ---------------------------------------------------------------------------- credentials


def test_every_call_needs_credentials_the_server_issued(server: Fake) -> None:
    from aiogoogle.testing._server_auth import auth_state, service_account_key

    anonymous = http(server, "GET", "storage/v1/b", auth=None, project="p")
    assert anonymous.status == 401 and anonymous.reason == "required"
    assert anonymous.json()["error"]["status"] == "UNAUTHENTICATED"
    wrong_key = http(server, "GET", "storage/v1/b", auth=None, project="p", key="AIzaNotOneOfOurs")
    assert (wrong_key.status, wrong_key.reason, wrong_key.message) == (400, "keyInvalid", "API key not valid. Please pass a valid API key.")
    assert http(server, "GET", "storage/v1/b", auth="bearer:ya29.made-up", project="p").status == 401
    token = json.loads(Path(server.creds["AIOGOOGLE_USER_CREDS"]).read_text())["access_token"]
    assert http(server, "GET", "storage/v1/b", auth=f"bearer:{token}", project="p").status == 200
    header_key = http(server, "GET", "storage/v1/b", auth=None, headers={"X-Goog-Api-Key": server.creds["AIOGOOGLE_API_KEY"]},
                      project="p")
    assert header_key.status == 200
    # A service account's self-signed JWT (https://google.aip.dev/auth/4111) is accepted too.
    import jwt

    key = service_account_key(server.server)
    now = int(time.time())
    signed = jwt.encode({"iss": key["client_email"], "sub": key["client_email"], "aud": "https://storage.googleapis.com/",
                         "iat": now, "exp": now + 600}, key["private_key"], algorithm="RS256")
    assert http(server, "GET", "storage/v1/b", auth=f"bearer:{signed}", project="p").status == 200
    auth_state(server.server).expire_access_tokens()
    assert http(server, "GET", "storage/v1/b", auth=f"bearer:{token}", project="p").status == 401


def test_the_default_server_still_echoes(tmp_path: Path) -> None:
    with LocalGoogleServer() as plain:
        echoed = http(Fake(plain, {}), "GET", "storage/v1/b", auth=None, project="p")
        assert echoed.status == 200 and echoed.json()["path"] == "/storage/v1/b"


# ---------------------------------------------------------------------------- Cloud Storage


def test_buckets(server: Fake) -> None:
    assert http(server, "GET", "storage/v1/b", project="p").json() == {"kind": "storage#buckets"}
    assert http(server, "GET", "storage/v1/b").status == 400  # project is required
    for name in ("b-3", "b-1", "b-2"):
        bucket(server, name)
    assert http(server, "POST", "storage/v1/b", {"name": "elsewhere"}, project="q").status == 200
    assert [b["name"] for b in http(server, "GET", "storage/v1/b", project="p").json()["items"]] == ["b-1", "b-2", "b-3"]
    first = http(server, "GET", "storage/v1/b", project="p", maxResults="2").json()
    rest = http(server, "GET", "storage/v1/b", project="p", maxResults="2", pageToken=first["nextPageToken"]).json()
    assert [b["name"] for b in first["items"] + rest["items"]] == ["b-1", "b-2", "b-3"] and "nextPageToken" not in rest
    assert http(server, "POST", "storage/v1/b", {"name": "b-1"}, project="p").status == 409
    bad = http(server, "POST", "storage/v1/b", {"name": "Bad_Name!"}, project="p")
    assert (bad.status, bad.message) == (400, "Invalid bucket name: 'Bad_Name!'")
    patched = http(server, "PATCH", "storage/v1/b/b-1", {"labels": {"env": "test"}, "name": "ignored"}).json()
    assert patched["labels"] == {"env": "test"} and patched["name"] == "b-1" and patched["metageneration"] == "2"
    assert http(server, "PATCH", "storage/v1/b/b-1", {"labels": {"env": None}}).json()["labels"] == {}
    put(server, "x", bucket_name="b-1")
    assert http(server, "DELETE", "storage/v1/b/b-1").status == 409
    assert http(server, "DELETE", "storage/v1/b/b-1/o/x").status == 204
    assert http(server, "DELETE", "storage/v1/b/b-1").status == 204
    assert http(server, "GET", "storage/v1/b/b-1").status == 404


def test_objects_upload_get_patch_media_delete(server: Fake) -> None:
    bucket(server)
    assert put(server, "x", bucket_name="no-such-bucket").status == 404
    assert http(server, "POST", "storage/v1/b/my-bucket/o", {"name": "x"}).reason == "wrongUrlForUpload"
    data = bytes(range(256)) * 1000
    made = put(server, "dir/file.bin", data, headers={"Content-Type": "application/x-test"}).json()
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert (made["name"], made["bucket"], made["size"], made["md5Hash"], made["contentType"]) == (
        "dir/file.bin", "my-bucket", str(len(data)), md5, "application/x-test")
    assert made["id"] == f"my-bucket/dir/file.bin/{made['generation']}"
    path = "storage/v1/b/my-bucket/o/" + urllib.parse.quote("dir/file.bin", safe="")
    assert http(server, "GET", path).json() == made
    media = http(server, "GET", path, alt="media", headers={"Range": "bytes=10-19"})
    assert (media.status, media.body, media.headers["Content-Range"]) == (206, data[10:20], f"bytes 10-19/{len(data)}")
    assert f"md5={md5}" in media.headers["x-goog-hash"]
    assert http(server, "GET", "download/" + path, alt="media").body == data
    patched = http(server, "PATCH", path, {"metadata": {"a": "1", "b": "2"}, "contentType": "text/plain", "size": "0"}).json()
    assert (patched["metadata"], patched["contentType"], patched["size"], patched["metageneration"]) == (
        {"a": "1", "b": "2"}, "text/plain", str(len(data)), "2")
    assert http(server, "PATCH", path, {"metadata": {"a": None}}).json()["metadata"] == {"b": "2"}
    assert http(server, "GET", path, alt="media").headers["Content-Type"] == "text/plain"
    replaced = http(server, "PUT", path, {"metadata": {"c": "3"}}).json()
    assert replaced["metadata"] == {"c": "3"} and replaced["metageneration"] == "4"
    assert http(server, "GET", path, generation="1").status == 404
    assert http(server, "DELETE", path).status == 204
    assert http(server, "GET", path).status == 404 and http(server, "DELETE", path).status == 404


def test_preconditions(server: Fake) -> None:
    bucket(server)
    first = put(server, "p.txt", ifGenerationMatch="0")
    assert first.status == 200
    again = put(server, "p.txt", ifGenerationMatch="0")  # "only if it does not exist"
    assert (again.status, again.reason) == (412, "conditionNotMet")
    generation = first.json()["generation"]
    assert put(server, "p.txt", b"new", ifGenerationMatch=generation).status == 200
    assert http(server, "DELETE", "storage/v1/b/my-bucket/o/p.txt", ifGenerationMatch=generation).status == 412
    assert http(server, "PATCH", "storage/v1/b/my-bucket/o/p.txt", {"metadata": {}}, ifMetagenerationMatch="7").status == 412
    assert http(server, "GET", "storage/v1/b/my-bucket/o/p.txt", ifMetagenerationNotMatch="1").status == 304
    assert http(server, "GET", "storage/v1/b/my-bucket/o/p.txt", ifGenerationMatch="x").status == 400


def test_multipart_and_resumable_uploads_land_in_the_bucket(server: Fake) -> None:
    bucket(server)
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
            '{"name": "m.txt", "metadata": {"via": "multipart"}}\r\n'
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n").encode()
    made = http(server, "POST", "upload/storage/v1/b/my-bucket/o", raw=body, uploadType="multipart",
                headers={"Content-Type": f"multipart/related; boundary={boundary}"}).json()
    assert (made["name"], made["size"], made["metadata"], made["contentType"]) == ("m.txt", "5", {"via": "multipart"}, "text/plain")
    start = http(server, "POST", "upload/storage/v1/b/my-bucket/o", {"name": "r.bin"}, uploadType="resumable")
    session = start.headers["Location"]
    done = urllib.request.urlopen(urllib.request.Request(session, data=b"z" * 1000, method="PUT"), timeout=30)
    assert json.loads(done.read())["name"] == "r.bin"
    assert names(http(server, "GET", "storage/v1/b/my-bucket/o")) == ["m.txt", "r.bin"]
    refused = http(server, "POST", "upload/storage/v1/b/nope-bucket/o", {"name": "r.bin"}, uploadType="resumable")
    assert refused.status == 404 and refused.message == "The specified bucket does not exist."


def _model_listing(all_names: list[str], prefix: str, delimiter: str) -> list[tuple[str, str]]:
    """What objects.list returns, entry by entry, written from Google's description
    (https://cloud.google.com/storage/docs/json_api/v1/objects/list): names under
    ``prefix`` in lexicographic order, those with ``delimiter`` after the prefix collapsed
    into ``prefixes`` (each once)."""
    out: list[tuple[str, str]] = []
    for name in sorted(n for n in set(all_names) if n.startswith(prefix)):
        rest = name[len(prefix):]
        if delimiter and delimiter in rest:
            entry = ("prefix", prefix + rest[: rest.index(delimiter) + len(delimiter)])
        else:
            entry = ("item", name)
        if entry not in out:
            out.append(entry)
    return out


_NAME = st.text(alphabet="ab/", min_size=1, max_size=5)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(_NAME, min_size=0, max_size=10), st.sampled_from(["", "a", "a/", "b/a"]), st.sampled_from(["", "/", "a/"]),
       st.integers(1, 4))
def test_objects_list_pages_through_exactly_the_model(fake: LocalGoogleServer, tmp_path_factory: pytest.TempPathFactory,
                                                      all_names: list[str], prefix: str, delimiter: str, size: int) -> None:
    server = fresh(fake, tmp_path_factory.mktemp("c"))
    bucket(server, "prop-bucket")
    for name in set(all_names):
        assert put(server, name, bucket_name="prop-bucket").status == 200
    got: list[tuple[str, str]] = []
    token = None
    for _ in range(len(all_names) + 2):
        query = {"prefix": prefix, "delimiter": delimiter, "maxResults": str(size), **({"pageToken": token} if token else {})}
        page = http(server, "GET", "storage/v1/b/prop-bucket/o", **query).json()
        entries = [("item", o["name"]) for o in page.get("items", [])] + [("prefix", p) for p in page.get("prefixes", [])]
        assert len(entries) <= size  # maxResults counts items and prefixes together
        got.extend(sorted(entries, key=lambda e: e[1]))
        token = page.get("nextPageToken")
        if token is None:
            break
    assert token is None, "pagination must end"
    assert got == _model_listing(all_names, prefix, delimiter)


def test_objects_list_offsets_and_trailing_delimiter(server: Fake) -> None:
    bucket(server)
    for name in ("a", "b", "c", "d/", "d/e"):
        put(server, name)
    assert names(http(server, "GET", "storage/v1/b/my-bucket/o", startOffset="b", endOffset="d")) == ["b", "c"]
    trailing = http(server, "GET", "storage/v1/b/my-bucket/o", delimiter="/", includeTrailingDelimiter="true").json()
    assert trailing["prefixes"] == ["d/"] and names(Reply(200, {}, json.dumps(trailing).encode())) == ["a", "b", "c", "d/"]
    assert http(server, "GET", "storage/v1/b/my-bucket/o", matchGlob="**").status == 400
    assert http(server, "GET", "storage/v1/b/my-bucket/o", pageToken="%%%").status == 400


def test_partial_responses(server: Fake) -> None:
    bucket(server)
    put(server, "f")
    shown = http(server, "GET", "storage/v1/b/my-bucket/o", fields="kind,items(name,size)").json()
    assert shown == {"kind": "storage#objects", "items": [{"name": "f", "size": "1"}]}
    assert http(server, "GET", "storage/v1/b/my-bucket/o/f", fields="name,metadata/x").json() == {"name": "f"}
    bad = http(server, "GET", "storage/v1/b/my-bucket/o", fields="items(name")
    assert bad.status == 400 and bad.message.startswith("Invalid field selection items(name")


def test_unimplemented_methods_say_what_the_fake_does(server: Fake) -> None:
    bucket(server)
    put(server, "f")
    composed = http(server, "POST", "storage/v1/b/my-bucket/o/f/compose", {})
    assert composed.status == 501 and "buckets and objects" in composed.message
    assert http(server, "GET", "drive/v3/about").status == 501
    # An API the fakes do not model is echoed, as by the default server.
    assert http(server, "GET", "gmail/v1/users/me/messages", auth=None).json()["path"] == "/gmail/v1/users/me/messages"


# ---------------------------------------------------------------------------- Drive


def test_drive_files(server: Fake) -> None:
    made = http(server, "POST", "drive/v3/files", {"name": "a.txt", "parents": ["folder-1"], "starred": True}).json()
    assert set(made) == {"kind", "id", "name", "mimeType"} and len(made["id"]) == 33
    http(server, "POST", "drive/v3/files", {"name": "b.doc", "mimeType": "application/vnd.google-apps.document"})
    http(server, "POST", "drive/v3/files", {"id": "my-id", "name": "c.txt", "mimeType": "text/plain"})
    assert http(server, "POST", "drive/v3/files", {"id": "my-id"}).status == 409
    listing = http(server, "GET", "drive/v3/files", orderBy="name desc").json()
    assert [f["name"] for f in listing["files"]] == ["c.txt", "b.doc", "a.txt"] and listing["kind"] == "drive#fileList"
    def query(q: str) -> list[str]:
        reply = http(server, "GET", "drive/v3/files", q=q)
        assert reply.status == 200, reply.body
        return sorted(f["name"] for f in reply.json()["files"])
    assert query("name contains 'TXT'") == ["a.txt", "c.txt"]
    assert query("'folder-1' in parents and starred = true") == ["a.txt"]
    assert query("mimeType != 'application/vnd.google-apps.document' and name = 'c.txt'") == ["c.txt"]
    unsupported = http(server, "GET", "drive/v3/files", q="modifiedTime > '2020-01-01'")
    assert unsupported.status == 400 and "understands" in unsupported.message
    pages = http(server, "GET", "drive/v3/files", pageSize="2").json()
    assert len(pages["files"]) == 2 and "nextPageToken" in pages
    assert http(server, "GET", f"drive/v3/files/{made['id']}", fields="*").json()["parents"] == ["folder-1"]
    assert http(server, "GET", "drive/v3/files/my-id", alt="media").body == b""
    google_doc = next(f for f in listing["files"] if f["name"] == "b.doc")
    assert http(server, "GET", f"drive/v3/files/{google_doc['id']}", alt="media").reason == "fileNotDownloadable"
    updated = http(server, "PATCH", "upload/drive/v3/files/my-id", raw=b"new content", uploadType="media",
                   headers={"Content-Type": "text/markdown"}, fields="id,size,mimeType,version").json()
    assert updated == {"id": "my-id", "size": "11", "mimeType": "text/markdown", "version": "2"}
    assert http(server, "GET", "drive/v3/files/my-id", alt="media").body == b"new content"
    moved = http(server, "PATCH", "drive/v3/files/my-id", {"name": "d.md"}, addParents="f2", fields="name,parents").json()
    assert moved == {"name": "d.md", "parents": ["root", "f2"]}
    ids = http(server, "GET", "drive/v3/files/generateIds", count="3").json()
    assert len(ids["ids"]) == 3
    assert http(server, "DELETE", "drive/v3/files/my-id").status == 204
    missing = http(server, "GET", "drive/v3/files/my-id")
    assert missing.status == 404 and missing.message == "File not found: my-id."


# ---------------------------------------------------------------------------- Calendar, People, Translation


def test_calendar_events(server: Fake) -> None:
    path = "calendar/v3/calendars/primary/events"
    assert http(server, "POST", path, {"summary": "x"}).message == "Missing start time."
    for day in (3, 1, 2):
        event = {"summary": f"day {day}", "start": {"dateTime": f"2026-02-0{day}T09:00:00Z"}, "end": {"date": f"2026-02-0{day + 1}"}}
        assert http(server, "POST", path, event).status == 200
    ordered = http(server, "GET", path, orderBy="startTime").json()
    assert [e["summary"] for e in ordered["items"]] == ["day 1", "day 2", "day 3"] and ordered["kind"] == "calendar#events"
    window = http(server, "GET", path, timeMin="2026-02-02T12:00:00Z", timeMax="2026-02-03T10:00:00+01:00").json()
    assert sorted(e["summary"] for e in window["items"]) == ["day 2"]
    first = ordered["items"][0]
    patched = http(server, "PATCH", f"{path}/{first['id']}", {"summary": "moved"}).json()
    assert patched["summary"] == "moved" and patched["sequence"] == 1 and patched["created"] == first["created"]
    assert http(server, "GET", path, q="MOVED").json()["items"][0]["id"] == first["id"]
    assert http(server, "DELETE", f"{path}/{first['id']}").status == 204
    assert http(server, "GET", f"{path}/{first['id']}").status == 404
    assert http(server, "GET", "calendar/v3/calendars/someone@example.com/events").status == 404
    other = http(server, "POST", "calendar/v3/calendars", {"summary": "Team"}).json()
    assert http(server, "GET", f"calendar/v3/calendars/{urllib.parse.quote(other['id'])}/events").json()["items"] == []


def test_people_contacts(server: Fake) -> None:
    made = http(server, "POST", "v1/people:createContact", {"names": [{"givenName": "Ada"}], "emailAddresses": [{"value": "a@x"}]},
                personFields="names").json()
    assert set(made) == {"resourceName", "etag", "names"}
    required = http(server, "GET", "v1/people/me/connections")
    assert required.status == 400 and required.message.startswith("personFields mask is required")
    assert http(server, "GET", "v1/people/me/connections", personFields="nickname").status == 400
    listed = http(server, "GET", "v1/people/me/connections", personFields="emailAddresses").json()
    assert listed["connections"] == [{"resourceName": made["resourceName"], "etag": made["etag"], "emailAddresses": [{"value": "a@x"}]}]
    assert listed["totalItems"] == 1
    ident = made["resourceName"].split("/")[1]
    stale = http(server, "PATCH", f"v1/people/{ident}:updateContact", {"etag": "old", "names": []}, updatePersonFields="names")
    assert stale.status == 400
    updated = http(server, "PATCH", f"v1/people/{ident}:updateContact", {"etag": made["etag"], "names": [{"givenName": "Ada L."}]},
                   updatePersonFields="names", personFields="names").json()
    assert updated["names"] == [{"givenName": "Ada L."}] and updated["etag"] != made["etag"]
    assert http(server, "DELETE", f"v1/people/{ident}:deleteContact").json() == {}
    assert http(server, "GET", "v1/people/me/connections", personFields="names").json() == {"totalPeople": 0, "totalItems": 0}


def test_translation(server: Fake) -> None:
    listed = http(server, "GET", "language/translate/v2", q="Hi", target="de").json()
    assert listed == {"data": {"translations": [{"translatedText": "[de] Hi", "detectedSourceLanguage": "en"}]}}
    posted = http(server, "POST", "language/translate/v2", {"q": ["a", "b"], "target": "ja", "source": "en"}).json()
    assert [t["translatedText"] for t in posted["data"]["translations"]] == ["[ja] a", "[ja] b"]
    form = http(server, "POST", "language/translate/v2", raw=b"q=x&q=y&target=fr",
                headers={"Content-Type": "application/x-www-form-urlencoded"}).json()
    assert len(form["data"]["translations"]) == 2
    assert http(server, "GET", "language/translate/v2", q="Hi").message == "Required Target Language"
    assert http(server, "GET", "language/translate/v2", target="fr").message == "Required Text"
    assert http(server, "GET", "language/translate/v2/detect", q="Hi").json()["data"]["detections"][0][0]["language"] == "en"
    assert {"language": "fr"} in http(server, "GET", "language/translate/v2/languages").json()["data"]["languages"]
