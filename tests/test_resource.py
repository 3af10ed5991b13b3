"""Browsing and request building (the seed's GoogleAPI/Resource/Method), no event loop."""

from __future__ import annotations

import copy
import pickle
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from aiogoogle import GoogleAPI, Method, Request, Resource
from aiogoogle.excs import DiscoveryError, ValidationError
from aiogoogle.resource import python_name

from ._docs import load, walk_methods


@pytest.fixture(scope="module")
def drive() -> GoogleAPI:
    return GoogleAPI(load("drive.v3"))


@pytest.fixture(scope="module")
def storage() -> GoogleAPI:
    return GoogleAPI(load("storage.v1"))


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


# ------------------------------------------------------------------ browsing (seed API)


def test_browsing_as_documented(drive: GoogleAPI) -> None:
    assert drive["name"] == "drive"
    assert drive["version"] == "v3"
    assert "files" in drive.resources_available
    assert isinstance(drive.files, Resource)
    assert "list" in drive.files.methods_available
    list_files = drive.files.list
    assert isinstance(list_files, Method)
    assert list_files["httpMethod"] == "GET"
    assert "https://www.googleapis.com/auth/drive" in list_files["scopes"]
    assert list_files["description"]
    assert list_files.parameters["pageSize"]["type"] == "integer"
    assert "pageToken" in list_files.optional_parameters
    assert list_files.required_parameters == []
    assert "fields" in list_files.optional_parameters  # global parameters merged in
    get = drive.files.get
    assert get.required_parameters == ["fileId"]
    assert get.path_parameters == ["fileId"]
    assert "fileId" not in get.query_parameters
    assert get.required_query_parameters == []
    assert "supportsAllDrives" in get.optional_query_parameters
    assert drive.files.create.request is not None and drive.files.create.request["id"] == "File"
    assert drive.files.create.response["id"] == "File"
    assert drive.files.delete.response is None
    assert drive.files is drive.files  # cached, O(1) after the first access
    assert "files" in drive and len(drive) == len(drive.resources_available) + len(drive.methods_available)


def test_reprs_and_dir_for_tab_completion(drive: GoogleAPI) -> None:
    # aiogoogle 5.x's texts, with the URL
    assert repr(drive) == str(drive) == "drive-v3 API @ https://www.googleapis.com/drive/v3/"
    assert "files" in dir(drive) and "about" in dir(drive)
    assert "list" in dir(drive.files) and "get_method" in dir(drive.files)
    assert repr(drive.files.list) == "drive.files.list method @ https://www.googleapis.com/drive/v3/"
    assert str(drive.files) == "files resource @ https://www.googleapis.com/drive/v3/"
    assert "parameters" in dir(drive.files.list)


def test_unknown_names_are_attribute_errors_with_suggestions(drive: GoogleAPI) -> None:
    with pytest.raises(AttributeError, match="did you mean files"):
        drive.filez  # noqa: B018
    with pytest.raises(AttributeError, match="no method 'nope'"):
        drive.files.get_method("nope")
    assert not hasattr(drive, "__wrapped__")


def test_methods_shadowed_by_sibling_resources_are_reachable() -> None:
    """25 real methods share their name with a sibling resource."""
    clashes: list[tuple[str, tuple[str, ...]]] = []
    from ._docs import document_names

    for name in document_names():
        doc = load(name)

        def walk(node: dict[str, Any], prefix: tuple[str, ...], doc_name: str) -> None:
            methods = node.get("methods") or {}
            resources = node.get("resources") or {}
            for m in methods:
                if m in resources:
                    clashes.append((doc_name, (*prefix, m)))
            for r, sub in resources.items():
                walk(sub, (*prefix, r), doc_name)

        walk(doc, (), name)
    assert len(clashes) == 25
    for doc_name, path in clashes:
        api = GoogleAPI(load(doc_name))
        node: Any = api
        for part in path[:-1]:
            node = node.get_resource(part)
        assert isinstance(getattr(node, path[-1]), Resource)  # resources first, as documented
        method = node.get_method(path[-1])
        assert isinstance(method, Method)
        assert method.id.endswith(path[-1])


def test_keyword_and_dashed_names_have_python_aliases() -> None:
    assert python_name("max-results") == "max_results"
    assert python_name("$.xgafv") == "x__xgafv"
    assert python_name("startDate.year") == "startDate_year"
    assert python_name("timeout") == "timeout_"
    assert python_name("from") == "from_"
    healthcare = GoogleAPI(load("healthcare.v1"))
    fhir = healthcare.projects.locations.datasets.fhirStores.fhir
    assert fhir.Patient_everything is fhir.get_method("Patient-everything")
    assert getattr(fhir, "Patient-everything") is fhir.Patient_everything


# ------------------------------------------------------------------ building


def test_path_templates_follow_googles_rule(storage: GoogleAPI) -> None:
    req = storage.objects.get(bucket="b", object="dir/sub/file name?#%.txt")
    assert req.url == "https://storage.googleapis.com/storage/v1/b/b/o/dir%2Fsub%2Ffile%20name%3F%23%25.txt"
    pubsub = GoogleAPI(load("pubsub.v1"))
    req = pubsub.projects.topics.get(topic="projects/p 1/topics/a:b?c#d%e~._-")
    assert req.url == "https://pubsub.googleapis.com/v1/projects/p%201/topics/a%3Ab%3Fc%23d%25e~._-"


def test_method_parameters_shadow_global_ones() -> None:
    api = GoogleAPI(load("recaptchaenterprise.v1"))
    req = api.projects.keys.retrieveLegacySecretKey(key="projects/p/keys/k")
    assert req.url == "https://recaptchaenterprise.googleapis.com/v1/projects/p/keys/k:retrieveLegacySecretKey"


def test_query_encoding(drive: GoogleAPI) -> None:
    req = drive.files.list(q="name contains 'a b' and é", supportsAllDrives=True, includeItemsFromAllDrives=False, pageSize=5, corpora=None)
    assert query_of(req.url) == [
        ("q", "name contains 'a b' and é"),
        ("supportsAllDrives", "true"),
        ("includeItemsFromAllDrives", "false"),
        ("pageSize", "5"),
    ]
    assert "q=name+contains+%27a+b%27+and+%C3%A9" in req.url
    youtube = GoogleAPI(load("youtube.v3"))
    req = youtube.videos.list(part=["snippet", "statistics"], id=("a", "b"))
    assert query_of(req.url) == [("part", "snippet"), ("part", "statistics"), ("id", "a"), ("id", "b")]
    assert GoogleAPI(load("drive.v3")).files.list(**{"$.xgafv": "2"}).url.endswith("?%24.xgafv=2")
    assert GoogleAPI(load("drive.v3")).files.list(x__xgafv="2").url.endswith("?%24.xgafv=2")


def test_int64_accepts_python_ints_and_sends_decimal_strings(storage: GoogleAPI) -> None:
    req = storage.objects.get(bucket="b", object="o", generation=2**62 + 1, ifMetagenerationMatch="7")
    assert ("generation", str(2**62 + 1)) in query_of(req.url)
    assert ("ifMetagenerationMatch", "7") in query_of(req.url)
    with pytest.raises(ValidationError, match="generation: out of int64 range"):
        storage.objects.get(bucket="b", object="o", generation=2**63)


def test_unknown_parameters_are_rejected_even_without_validation(drive: GoogleAPI) -> None:
    with pytest.raises(ValidationError) as err:
        drive.files.create(body={"name": "x"})
    assert "request body goes in json=" in str(err.value)
    with pytest.raises(ValidationError, match="did you mean pageSize"):
        drive.files.list(pagesize=3, validate=False)


def test_call_option_collisions_have_a_documented_spelling() -> None:
    compute = GoogleAPI(load("compute.v1"))
    aiplatform = GoogleAPI(load("aiplatform.v1"))
    wait = aiplatform.projects.locations.operations.wait
    req = wait(name="projects/p/locations/l/operations/o", timeout_="10s", timeout=30)
    assert ("timeout", "10s") in query_of(req.url)
    assert req.timeout == 30
    with pytest.raises(ValidationError):
        wait(name="projects/p/locations/l/operations/o", timeout_="ten seconds")
    assert compute.zoneOperations.wait(project="p", zone="z", operation="o").url.endswith("/wait")


def test_validation_lists_every_problem_with_paths() -> None:
    compute = GoogleAPI(load("compute.v1"))
    body = {
        "name": "ok",
        "disks": [{"initializeParams": {"diskSizeGb": "ten"}}, {"autoDelete": "yes"}],
        "scheduling": {"preemptible": 1},
        "unknownField": 1,
    }
    with pytest.raises(ValidationError) as err:
        compute.instances.insert(project="p", zone="bad zone!", json=body, requestId=5)
    paths = sorted(p.path for p in err.value.problems)
    assert paths == [
        "json.disks[0].initializeParams.diskSizeGb",
        "json.disks[1].autoDelete",
        "json.scheduling.preemptible",
        "json.unknownField",
        "requestId",  # a number for a string parameter, refused as aiogoogle 5.x refused it
        "zone",
    ]
    assert "does not match the pattern" in str(err.value)  # full match, not a prefix
    # validate=False sends it anyway
    req = compute.instances.insert(project="p", zone="z", json=body, validate=False)
    assert req.json is body


def test_required_parameters_and_bodies() -> None:
    storage = GoogleAPI(load("storage.v1"))
    with pytest.raises(ValidationError, match="bucket: required path parameter is missing"):
        storage.objects.get(object="o")
    with pytest.raises(ValidationError, match=r"json.name: required by storage.buckets.insert"):
        storage.buckets.insert(project="p", json={})
    req = storage.buckets.insert(project="p", json={"name": "b"})
    assert req.json == {"name": "b"} and req.method == "POST"
    with pytest.raises(ValidationError, match="takes no request body"):
        storage.objects.get(bucket="b", object="o", json={"x": 1})


def test_urls_derive_from_one_root(storage: GoogleAPI) -> None:
    local = storage.with_root_url("http://127.0.0.1:9/")
    assert local.objects.get(bucket="b", object="o").url == "http://127.0.0.1:9/storage/v1/b/b/o/o"
    up = local.objects.insert(bucket="b", name="n", upload_file=b"data")
    assert up.media_upload.upload_path == "http://127.0.0.1:9/upload/storage/v1/b/b/o?name=n"  # uploadType is added when sent
    down = local.objects.get(bucket="b", object="o", download_file="/tmp/x")
    assert down.url == "http://127.0.0.1:9/download/storage/v1/b/b/o/o?alt=media"
    assert up.batch_url == "http://127.0.0.1:9/batch/storage/v1"
    assert GoogleAPI(load("drive.v3")).files.list().batch_url == "https://www.googleapis.com/batch/drive/v3"


def test_upload_type_is_chosen(storage: GoogleAPI) -> None:
    # The protocol (uploadType) is chosen when the upload is sent (aiogoogle.media
    # choose_protocol): the request carries the URL without it, as aiogoogle 5.x built it,
    # and multipart says whether the method accepts metadata with the media.
    from aiogoogle.media import choose_protocol

    media = storage.objects.insert(bucket="b", name="n", upload_file=b"x")
    assert "uploadType" not in media.media_upload.upload_path and media.media_upload.multipart
    assert choose_protocol(media.media_upload, 1, False) == "simple"
    multi = storage.objects.insert(bucket="b", upload_file=b"x", json={"name": "n"})
    assert choose_protocol(multi.media_upload, 1, True) == "multipart"
    resumable = storage.objects.insert(bucket="b", upload_file=b"x", json={"name": "n"}, resumable=True)
    assert choose_protocol(resumable.media_upload, 1, True) == "resumable"
    assert resumable.media_upload.resumable is not None
    with pytest.raises(ValidationError, match="does not accept media uploads"):
        storage.objects.get(bucket="b", object="o", upload_file=b"x")
    gif = GoogleAPI(load("drive.v3")).files.create(upload_file="/tmp/cat.gif")
    assert gif.media_upload.content_type == "image/gif"
    assert gif.media_upload.max_size == 5497558138880


def test_upload_accept_list_is_checked() -> None:
    youtube = GoogleAPI(load("youtube.v3"))
    with pytest.raises(ValidationError, match="accepts only"):
        youtube.thumbnails.set(videoId="v", upload_file=b"x", upload_file_content_type="text/plain")
    req = youtube.thumbnails.set(videoId="v", upload_file=b"x", upload_file_content_type="image/png")
    assert req.media_upload.content_type == "image/png"


def test_the_callers_document_is_never_modified() -> None:
    doc = copy.deepcopy(load("drive.v3"))
    snapshot = copy.deepcopy(doc)
    api = GoogleAPI(doc)
    for path, _ in walk_methods(doc):
        node: Any = api
        for part in path[:-1]:
            node = node.get_resource(part)
        m = node.get_method(path[-1])
        _ = m.parameters, m.optional_parameters, m.request, m.response
        try:
            m(validate=False, **{n: "1" for n in m.required_parameters})
        except ValidationError:
            pass
    assert doc == snapshot


def test_requests_are_plain_objects(drive: GoogleAPI) -> None:
    req = drive.files.list(pageSize=1, key="SECRET-KEY-123456")
    assert "SECRET" not in repr(req)
    copied = req.copy()
    assert copied.url == req.url and copied is not req
    assert isinstance(pickle.loads(pickle.dumps(Request(method="GET", url="https://x/"))), Request)


# ------------------------------------------------------------------ malformed documents


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"resources": {"a": {"methods": {"m": {"path": "x", "httpMethod": "GET"}}}}}, "missing 'rootUrl'"),
        ({"rootUrl": "https://x/", "resources": {"a": {"methods": {"m": {"path": "x"}}}}}, "missing 'httpMethod'"),
        ({"rootUrl": "https://x/", "resources": {"a": {"methods": {"m": {"httpMethod": "GET"}}}}}, "missing 'path'"),
        ({"rootUrl": "https://x/", "resources": {"a": {"methods": {"m": {"httpMethod": "GET", "path": "{id}"}}}}}, r"path variable \{id\} has no parameter"),
        ({"rootUrl": "https://x/", "resources": {"a": {"methods": {"m": {"httpMethod": "GET", "path": "x", "parameters": []}}}}}, "'parameters' must be an object"),
        ({"rootUrl": "https://x/", "resources": {"a": {"methods": {"m": {"httpMethod": "GET", "path": "x", "parameters": {"p": {"location": "header"}}}}}}}, "unsupported location"),
        ({"rootUrl": "https://x/", "resources": {"a": {"methods": {"m": {"httpMethod": "GET", "path": "{/x}", "parameters": {"x": {"location": "path"}}}}}}}, "unsupported URL template"),
        ({"rootUrl": "https://x/", "resources": {"a": "nope"}}, "is not an object"),
    ],
)
def test_malformed_documents_raise_discovery_errors(doc: dict[str, Any], message: str) -> None:
    api = GoogleAPI(doc)
    with pytest.raises(DiscoveryError, match=message):
        api.a.m()


def test_undefined_schema_reference_is_a_discovery_error() -> None:
    doc = {
        "rootUrl": "https://x/",
        "resources": {"a": {"methods": {"m": {"httpMethod": "POST", "path": "x", "request": {"$ref": "Missing"}}}}},
    }
    with pytest.raises(DiscoveryError, match="'Missing' is referenced but not defined"):
        GoogleAPI(doc).a.m(json={})


def test_not_a_document() -> None:
    with pytest.raises(DiscoveryError):
        GoogleAPI(["not", "a", "dict"])  # type: ignore[arg-type]


# ------------------------------------------------------------------ seed constructors


_GET_SPEC = {
    "id": "x.files.get",
    "httpMethod": "GET",
    "path": "files/{fileId}",
    "parameters": {"fileId": {"type": "string", "location": "path", "required": True}},
}
_INSERT_SPEC = {"id": "x.files.insert", "httpMethod": "POST", "path": "files", "request": {"$ref": "File"}}
_SCHEMAS = {"File": {"id": "File", "type": "object", "properties": {"name": {"type": "string"}}}}


def test_method_made_directly_uses_its_arguments() -> None:
    get = Method("get", _GET_SPEC, global_parameters={"fields": {"type": "string", "location": "query"}}, root_url="https://example.test", service_path="x/v1/")
    req = get(fileId="a", fields="id")
    assert (req.method, req.url) == ("GET", "https://example.test/x/v1/files/a?fields=id")
    insert = Method("insert", _INSERT_SPEC, schemas=_SCHEMAS, root_url="https://example.test/", service_path="x/v1/")
    with pytest.raises(ValidationError, match="unknown field"):
        insert(json={"nmae": "typo"})
    unchecked = Method("insert", _INSERT_SPEC, schemas=_SCHEMAS, root_url="https://example.test/", service_path="x/v1/", validate=False)
    assert unchecked(json={"nmae": "typo"}).json == {"nmae": "typo"}


def test_resource_made_directly_uses_its_arguments() -> None:
    files = Resource("files", {"methods": {"get": _GET_SPEC, "insert": _INSERT_SPEC}}, schemas=_SCHEMAS, root_url="https://example.test/", service_path="x/v1/")
    assert sorted(files.methods_available) == ["get", "insert"]
    assert files.get(fileId="b").url == "https://example.test/x/v1/files/b"
    with pytest.raises(ValidationError, match="unknown field"):
        files.insert(json={"nmae": "typo"})
    with pytest.raises(ValidationError):
        files.get(fileId="b", fields="id")  # no global parameters given: "fields" is unknown
