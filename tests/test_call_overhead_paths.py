"""The per-call shortcuts of issue 16 (one request per ``as_*`` call) give exactly what the
plain versions give: credentials applied to a request, authorizers reused between calls,
the single-request path without ``gather``, and the plain-request dispatch of
``call_flow``. Each shortcut is checked against the plain implementation it replaces."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiogoogle import Aiogoogle
from aiogoogle._call import CallOptions, apply_auth, call_flow
from aiogoogle._effects import NO_AUTH, AuthInfo
from aiogoogle._http import HttpRequest
from aiogoogle.excs import AuthError, HTTPError, ValidationError
from aiogoogle.models import Request

T = TypeVar("T")


def plain_apply_auth(http: HttpRequest, auth: AuthInfo) -> HttpRequest:
    """apply_auth as it was: the URL always parsed, the header merge always computed."""
    if auth is NO_AUTH or (not auth.headers and not auth.query):
        return http
    url = http.url
    if auth.query:
        extra = auth.query
        query = urlsplit(url).query if "?" in url else ""
        if query:
            existing = {pair.split("=", 1)[0] for pair in query.split("&") if pair}
            extra = tuple((k, v) for k, v in extra if k not in existing)
        if extra:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(extra)}"
    headers = http.headers
    if auth.headers:
        names = {name.lower() for name, _ in auth.headers}
        headers = tuple((n, v) for n, v in headers if n.lower() not in names) + auth.headers
    return HttpRequest(http.method, url, headers, http.body, http.timeout, http.verify_ssl, http.raw)


_NAMES = st.sampled_from(["key", "k", "ke", "keys", "alt", "fields", "x", "quotaUser", "Key"])
_PAIRS = st.lists(st.tuples(_NAMES, st.text("ab1=&", max_size=3)), max_size=3).map(tuple)
_HEADER_NAMES = st.sampled_from(["Authorization", "authorization", "X-Goog-Api-Key", "x-goog-api-key", "Accept", "x-goog-user-project"])
_HEADERS = st.lists(st.tuples(_HEADER_NAMES, st.text("ab", max_size=2)), max_size=3).map(tuple)


@st.composite
def urls(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(["https://h.example/p", "https://h.example/key/p", "https://apikeys.example/v1/keys", "http://127.0.0.1:8/a"]))
    query = draw(st.lists(st.tuples(_NAMES, st.text("ab1", max_size=2)), max_size=3))
    form = draw(st.sampled_from(["pairs", "bare", "empty", "fragment"]))
    if form == "empty":
        return path + "?"
    text = "&".join(f"{k}={v}" if form != "bare" else k for k, v in query)
    if form == "fragment":
        return f"{path}?{text}#key=frag" if text else f"{path}#key"
    return f"{path}?{text}" if text else path


@given(urls(), _PAIRS, _HEADERS, _HEADERS, st.integers(1, 3))
def test_apply_auth_matches_the_plain_rule(url: str, query: Any, auth_headers: Any, headers: Any, rounds: int) -> None:
    http = HttpRequest("GET", url, headers)
    auth = AuthInfo(headers=auth_headers, query=query, token="t")
    # Repeated with the same objects (the merge cache hits) and with equal copies (it misses).
    for _ in range(rounds):
        assert apply_auth(http, auth) == plain_apply_auth(http, auth)
        copy = HttpRequest("GET", url, tuple(list(headers)))
        assert apply_auth(copy, AuthInfo(headers=tuple(list(auth_headers)), query=query)) == plain_apply_auth(copy, auth)
    assert apply_auth(http, NO_AUTH) is http


def test_call_flow_dispatches_plain_requests_to_the_plain_flow() -> None:
    plain = call_flow(Request("GET", "https://h.example/a"), CallOptions())
    assert plain.gi_code.co_name == "plain_call_flow"  # type: ignore[attr-defined]
    batch = call_flow(Request("POST", "https://h.example/batch", batch=[Request("GET", "https://h.example/b")]), CallOptions())  # type: ignore[call-arg]
    assert batch.gi_code.co_name == "_special_call_flow"  # type: ignore[attr-defined]


# ------------------------------------------------------------------ the client's paths


class _Reply:
    def __init__(self, status: int, url: str) -> None:
        self.status = status
        self.reason = ""
        self.headers = (("Content-Type", "application/json"),)
        self.url = url

    async def read(self, limit: int | None = None) -> bytes:
        return b'{"ok": true}' if self.status < 400 else b'{"error": {"code": 404, "message": "nope"}}'

    async def aclose(self) -> None:
        return None


class RecordingSession:
    """Answers at once and records what was sent and whether gather was used."""

    def __init__(self) -> None:
        self.sent: list[HttpRequest] = []
        self.gathered = 0

    async def send(self, request: HttpRequest) -> _Reply:
        self.sent.append(request)
        return _Reply(404 if "missing" in request.url else 200, request.url)

    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]:
        self.gathered += 1
        return [await t() for t in thunks]

    async def sleep(self, seconds: float) -> None:
        return None

    async def close(self) -> None:
        return None


def run(coro: Any) -> Any:
    from aiogoogle.sansio import complete

    return complete(coro)


def test_api_key_authorizer_follows_every_change_of_key() -> None:
    session = RecordingSession()
    ag = Aiogoogle(api_key="AIza-one", session_factory=lambda: session, discovery_cache=False)  # type: ignore[arg-type,return-value]

    async def scenario() -> None:
        await ag.as_api_key(Request("GET", "https://h.example/a"))
        await ag.as_api_key(Request("GET", "https://h.example/a"))
        await ag.as_api_key(Request("GET", "https://h.example/a"), api_key="AIza-call")
        ag.api_key = "AIza-two"
        await ag.as_api_key(Request("GET", "https://h.example/a"))
        ag.api_key_manager.header = True
        await ag.as_api_key(Request("GET", "https://h.example/a"))
        ag.api_key_manager.header = False
        ag.api_key = None
        with pytest.raises(AuthError):
            await ag.as_api_key(Request("GET", "https://h.example/a"))

    run(scenario())
    keys = [(r.url.partition("key=")[2], r.header("x-goog-api-key")) for r in session.sent]
    assert keys == [("AIza-one", None), ("AIza-one", None), ("AIza-call", None), ("AIza-two", None), ("", "AIza-two")]


def test_user_authorizer_reads_the_clients_current_credentials() -> None:
    session = RecordingSession()
    ag = Aiogoogle(user_creds={"access_token": "tok-1"}, session_factory=lambda: session, discovery_cache=False)  # type: ignore[arg-type,return-value]

    async def scenario() -> None:
        await ag.as_user(Request("GET", "https://h.example/a"))
        ag.user_creds = {"access_token": "tok-2"}
        await ag.as_user(Request("GET", "https://h.example/a"))
        await ag.as_user(Request("GET", "https://h.example/a"), user_creds={"access_token": "tok-call"})
        await ag.as_user(Request("GET", "https://h.example/a"))

    run(scenario())
    assert [r.header("authorization") for r in session.sent] == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-call", "Bearer tok-2"]


def test_one_request_is_sent_without_gather_and_gives_what_gather_gives() -> None:
    session = RecordingSession()
    ag = Aiogoogle(api_key="AIza-k", session_factory=lambda: session, discovery_cache=False)  # type: ignore[arg-type,return-value]

    async def scenario() -> None:
        one = await ag.as_api_key(Request("GET", "https://h.example/a"))
        assert session.gathered == 0
        both = await ag.as_api_key(Request("GET", "https://h.example/a"), Request("GET", "https://h.example/a"))
        assert session.gathered == 1 and both == [one, one] == [{"ok": True}] * 2
        full = await ag.as_api_key(Request("GET", "https://h.example/a"), full_res=True)
        assert full.json == {"ok": True} and full._pager is not None and full.session_factory is not None
        # The same pager object serves every response of the same authorizer.
        again = await ag.as_api_key(Request("GET", "https://h.example/a"), full_res=True)
        assert again._pager is full._pager
        error = await ag.as_api_key(Request("GET", "https://h.example/missing"), return_exceptions=True)
        assert isinstance(error, HTTPError) and error.res is not None and error.res.status_code == 404
        with pytest.raises(HTTPError):
            await ag.as_api_key(Request("GET", "https://h.example/missing"))
        assert (await ag.as_api_key(Request("GET", "https://h.example/missing"), raise_for_status=False)) == {"error": {"code": 404, "message": "nope"}}
        with pytest.raises(ValidationError, match=r"requests\[0\]"):
            await ag.as_api_key("https://h.example/a")  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="no request"):
            await ag.as_api_key()
        assert session.gathered == 1

    run(scenario())


# ------------------------------------------------------------------ h11 request heads

_HEAD_TUPLES = [
    (("user-agent", "aiogoogle"), ("accept", "application/json")),
    (("accept", "*/*"),),
    (("Host", "other.example"), ("x-a", "1")),
    (),
]


@given(
    st.lists(
        st.tuples(st.integers(0, len(_HEAD_TUPLES) - 1), st.booleans(), st.sampled_from(["h.example", "h.example:8080"]), st.sampled_from([b"", b"{}"])),
        min_size=1,
        max_size=8,
    )
)
def test_h11_heads_from_kept_headers_are_the_plain_bytes(steps: list[tuple[int, bool, str, bytes]]) -> None:
    """Bodiless requests reuse h11's validated headers of the last one with the same header
    tuple and Host: the bytes sent are those of a head built from the plain header list."""
    import ssl

    import h11

    from aiogoogle.sessions._h11 import ConnectionPool, _request_headers

    class NoIO:
        errors = ()

    pool = ConnectionPool(NoIO(), ssl.create_default_context())  # type: ignore[arg-type]
    for index, copy, host, body in steps:
        headers = _HEAD_TUPLES[index]
        if copy:  # an equal tuple that is another object: never taken for the kept one
            headers = tuple(list(headers))
        request = HttpRequest("POST" if body else "GET", f"http://{host}/p?q=1", headers, body)
        head, keep = pool._head(request, host)
        got = h11.Connection(h11.CLIENT).send(pool._request_event(request, "/p?q=1", head, keep))
        plain = h11.Connection(h11.CLIENT).send(h11.Request(method=request.method, target="/p?q=1", headers=_request_headers(request, host)))
        assert got == plain
        assert (keep is None) == bool(body)
