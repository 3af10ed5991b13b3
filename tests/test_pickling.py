"""Every exception the package defines pickles and copies with its message and attributes
(issue 10 item 4): multiprocessing and task queues move exceptions between processes.

The classes are found by walking the whole package, so a new exception class fails here
until it gets an instance "as raised in practice" below. HTTP errors are raised the way the
client raises them: through the flows and ``Aiogoogle._finish``, which gives the response
a pager (a closure over the client) and a session factory, with a request carrying a
lambda callback, media hooks and a retry policy with a lambda jitter source.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import pickle
import pkgutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import aiogoogle
from aiogoogle import Aiogoogle
from aiogoogle._call import CallOptions, call_flow
from aiogoogle._http import Headers, HttpResponse
from aiogoogle.auth import _flows as flows
from aiogoogle.auth.endpoints import Endpoints
from aiogoogle.models import MediaDownload, MediaUpload, Request, Response
from aiogoogle.retry import RetryPolicy

from .flowtools import FlowRunner, response


def exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(aiogoogle.__path__, "aiogoogle."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__.startswith("aiogoogle") and not name.startswith("_"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


async def _pipe() -> AsyncIterator[bytes]:
    yield b"never read"


def user_request(url: str = "https://storage.googleapis.com/storage/v1/b/bkt/o/x?key=SECRETKEY") -> Request:
    """A request as users build them: hooks that are lambdas and live objects."""
    return Request(
        "GET",
        url,
        headers={"X-Trace": "1"},
        callback=lambda content: content,
        media_upload=MediaUpload(pipe_from=_pipe(), upload_path="https://h/upload", progress=lambda done, total: None),
        media_download=MediaDownload(pipe_to=lambda chunk: None, progress=lambda done, total: None),
        retry=RetryPolicy(max_attempts=2, random=lambda: 0.5),
        timeout=30,
    )


def raised_by_the_client(status: int, body: bytes) -> BaseException:
    """The HTTPError (or AuthError) Aiogoogle raises for a reply, by its own code path."""
    client = Aiogoogle()
    request = user_request()
    request.media_upload = request.media_download = None
    reply = response(status, body, {"content-type": "application/json"})
    outcome = FlowRunner(lambda req: reply).run(call_flow(request, CallOptions(retry=RetryPolicy(max_attempts=1))))
    with pytest.raises(Exception) as info:
        client._finish(outcome, client._pager(None), full_res=False, raise_for_status=True)
    assert outcome._pager is not None and outcome.session_factory is not None  # the closures are there
    return info.value


def raised_redirect() -> BaseException:
    with pytest.raises(Exception) as info:
        FlowRunner(lambda req: response(302, b"", {"location": req.url})).run(call_flow(user_request(), CallOptions()))
    return info.value


def raised_token_error() -> BaseException:
    reply = HttpResponse(400, Headers({"content-type": "application/json"}), b'{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}')
    with pytest.raises(Exception) as info:
        FlowRunner(lambda req: reply).run(flows.refresh_flow({"refresh_token": "RT", "client_id": "c", "client_secret": "s"}, None, Endpoints.at("http://idp.test/"), CallOptions()))
    return info.value


def raised_validation_error() -> BaseException:
    # The client's own check: a method object (not called) where a Request belongs; the
    # value kept in the problem is that bound method, which cannot be pickled.
    with pytest.raises(Exception) as info:
        Aiogoogle()._send([user_request, Request("GET", "https://h/x")], None, None, False, True, False).send(None)  # type: ignore[list-item]
    return info.value


# name -> a factory giving an instance as the package raises it
INSTANCES: dict[str, Callable[[type[BaseException]], BaseException]] = {
    "AiogoogleError": lambda cls: cls("something failed"),
    "ValidationError": lambda cls: raised_validation_error(),
    "ValidationTypeError": lambda cls: cls([("timeout", "must be a number of seconds, an aiogoogle.Timeout or None", "ten")]),
    "DiscoveryError": lambda cls: cls("no discovery document for x v1"),
    "HTTPError": lambda cls: raised_by_the_client(404, b'{"error": {"code": 404, "message": "No such object", "status": "NOT_FOUND", "errors": [{"reason": "notFound"}]}}'),
    "AuthError": lambda cls: raised_by_the_client(401, b'{"error": {"code": 401, "message": "Invalid Credentials"}}'),
    "UnknownKeyError": lambda cls: cls("id_token rejected (kid): signed with a key id that is not in the provider's JWKS"),
    "RedirectError": lambda cls: raised_redirect(),
    "TransportError": lambda cls: cls("connection reset by peer", url="https://h/x?key=SECRETKEY"),
    "ConnectError": lambda cls: cls("cannot connect: [Errno 111] Connection refused", url="https://h/x"),
    "TransportTimeout": lambda cls: cls("timeout", url="https://h/x"),
    "ConnectTimeout": lambda cls: cls("connect timeout (10.0 s)", url="https://h/x"),
    "ReadTimeout": lambda cls: cls("read timeout (60.0 s) while reading the body", url="https://h/x"),
    "ResponseTooLarge": lambda cls: cls("the response body exceeds 1024 bytes", limit=1024, url="https://h/x"),
    "RequestTimeout": lambda cls: cls("the call did not finish within 5 s"),
    "MediaError": lambda cls: cls("upload of 11 bytes exceeds this method's maxSize of 10 bytes"),
    "ResumableUploadError": lambda cls: cls("gave up", session_uri="https://h/upload?upload_id=U", offset=262144),
    "ChecksumMismatch": lambda cls: cls("downloaded bytes do not match the server's crc32c"),
    "LocalFileError": lambda cls: cls("cannot download to '/full/x': No space left on device", path="/full/x"),
    "BatchError": lambda cls: cls("the batch reply is truncated (no closing boundary)"),
    # Internal to the command line and the h11 sessions; plain exceptions.
    "UsageError": lambda cls: cls("unknown option --x"),
    "DemoFailure": lambda cls: cls("step 3 did not produce the result it checks for"),
    "Expired": lambda cls: cls(),
}


def instance_of(cls: type[BaseException]) -> BaseException:
    factory = INSTANCES.get(cls.__name__)
    assert factory is not None, f"{cls.__module__}.{cls.__qualname__}: add an instance as raised in practice to INSTANCES"
    exc = factory(cls)
    assert type(exc) is cls, (cls, exc)
    return exc


CLASSES = exception_classes()


def test_the_walk_finds_the_hierarchy() -> None:
    names = {c.__name__ for c in CLASSES}
    assert {"HTTPError", "AuthError", "RedirectError", "ValidationError", "ResumableUploadError", "UnknownKeyError"} <= names


def same(a: Any, b: Any) -> bool:
    """Equal as far as data goes (requests and responses have no __eq__)."""
    if isinstance(a, (Request, Response)) and type(a) is type(b):
        state_a, state_b = a.__getstate__(), b.__getstate__()
        return state_a.keys() == state_b.keys() and all(same(state_a[k], state_b[k]) for k in state_a)
    if isinstance(a, (MediaUpload, MediaDownload)) and type(a) is type(b):
        return same(a.__getstate__(), b.__getstate__())
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and type(a) is type(b):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Headers) and isinstance(b, Headers):
        return a.raw == b.raw
    if isinstance(a, RetryPolicy) and isinstance(b, RetryPolicy):
        return a == b  # the jitter source is not compared
    if type(a).__name__ == "Problem":
        return a.path == b.path and a.message == b.message and repr(a.value) == repr(b.value)
    return bool(a == b) or repr(a) == repr(b)


@pytest.mark.parametrize("cls", CLASSES, ids=[f"{c.__module__}.{c.__qualname__}" for c in CLASSES])
def test_every_exception_pickles_and_copies(cls: type[BaseException]) -> None:
    exc = instance_of(cls)
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(exc, protocol))
        assert type(back) is cls
        assert str(back) == str(exc) and back.args == exc.args
        assert back.__dict__.keys() == exc.__dict__.keys()
        for key, value in exc.__dict__.items():
            assert same(back.__dict__[key], value), key
    for clone in (copy.copy(exc), copy.deepcopy(exc)):
        assert type(clone) is cls and str(clone) == str(exc) and clone.__dict__.keys() == exc.__dict__.keys()


def test_an_http_error_keeps_google_fields_request_and_response_data() -> None:
    exc: Any = raised_by_the_client(403, b'{"error": {"code": 403, "message": "Rate", "status": "PERMISSION_DENIED", "errors": [{"reason": "rateLimitExceeded"}]}}')
    back = pickle.loads(pickle.dumps(exc))
    assert (back.status_code, back.message, back.status, back.reason) == (403, "Rate", "PERMISSION_DENIED", "rateLimitExceeded")
    assert back.res.json == exc.res.json and back.res.headers.raw == exc.res.headers.raw and back.res.url == exc.res.url
    assert back.req.url == exc.req.url and back.req.headers == {"X-Trace": "1"} and back.req.timeout == 30
    # Links to the client and user hooks stay behind; the originals keep theirs.
    assert back.res._pager is None and back.res.session_factory is None and back.req.callback is None
    assert exc.res._pager is not None and exc.req.callback is not None
    assert back.req.retry == exc.req.retry and back.req.retry.random() < 1
    assert "SECRETKEY" not in str(back)


def test_media_hooks_are_dropped_and_data_kept() -> None:
    request = user_request()
    back = pickle.loads(pickle.dumps(request))
    upload, download = back.media_upload, back.media_download
    assert upload.pipe_from is None and upload.progress is None and upload.upload_path == "https://h/upload"
    assert download.pipe_to is None and download.progress is None and download.chunk_size == request.media_download.chunk_size  # type: ignore[union-attr]
    assert request.media_upload.pipe_from is not None  # type: ignore[union-attr]


def test_a_validation_error_shows_the_same_problems_after_pickling() -> None:
    exc: Any = raised_validation_error()
    back = pickle.loads(pickle.dumps(exc))
    assert [p.describe() for p in back.problems] == [p.describe() for p in exc.problems]
    from aiogoogle.excs import _NO_VALUE, ValidationError

    original = ValidationError("no request to send")
    plain = pickle.loads(pickle.dumps(original))
    assert str(plain) == "no request to send" and plain.problems == original.problems
    assert plain.problems[0].value is _NO_VALUE  # the no-value marker stays the one object
    assert copy.deepcopy(original).problems[0].value is _NO_VALUE


def test_a_token_endpoint_error_pickles() -> None:
    exc: Any = raised_token_error()
    back = pickle.loads(pickle.dumps(exc))
    assert type(back).__name__ == "AuthError" and str(back) == str(exc) and back.reason == "invalid_grant"
