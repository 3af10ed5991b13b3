"""Drive core flows by hand, without an event loop (h11/gidgethub style)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogoogle._effects import AuthInfo, Authorize, Call, Emit, FileOp, Now, Pull, Run, Send, Sleep
from aiogoogle._http import Headers, HttpRequest, HttpResponse

Responder = Callable[[HttpRequest], "HttpResponse | BaseException"]


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, Headers(headers or {}), body)


class FlowRunner:
    """Runs a flow the way the driver does, without an event loop, recording every effect.

    Each effect is answered by the ``on_<effect>`` method for its type (``on_send`` asks
    ``responder``); an exception from that method, or one the responder returns, is thrown
    into the flow, as the driver throws every failure of an effect. An effect whose method
    is missing or set to ``None`` is not expected and fails the test at once. This is the
    one flow loop of the tests: :class:`tests.mediafake.MediaRunner` and the auth tests'
    runner only answer more effects, or answer them differently.
    """

    on_pull: Any = None
    on_fileop: Any = None

    def __init__(self, responder: Responder, *, token: str = "t1", clock: float = 1000.0) -> None:
        self.responder = responder
        self.sent: list[HttpRequest] = []
        self.slept: list[float] = []
        self.emitted: list[Any] = []
        self.authorize_calls: list[str | None] = []
        self.token = token
        self.monotonic = 0.0
        self.clock = clock
        self.refreshes = 0

    def authorize(self, stale: str | None) -> AuthInfo:
        self.authorize_calls.append(stale)
        if stale is not None and stale == self.token:
            self.refreshes += 1
            self.token = f"t{self.refreshes + 1}"
        return AuthInfo(headers=(("authorization", f"Bearer {self.token}"),), token=self.token)

    def run(self, flow: Any) -> Any:
        reply: Any = None
        error: BaseException | None = None
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(reply)
            except StopIteration as stop:
                return stop.value
            reply, error = None, None
            name = _HANDLERS.get(type(effect))
            if name is None:
                raise AssertionError(f"not an effect: {effect!r}")
            handler = getattr(self, name)
            if handler is None:
                raise AssertionError(f"unexpected effect {effect!r}")
            try:
                reply = handler(effect)
            except Exception as exc:
                error = exc

    def on_send(self, effect: Send) -> Any:
        self.sent.append(effect.request)
        outcome = self.responder(effect.request)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def on_sleep(self, effect: Sleep) -> None:
        self.slept.append(effect.seconds)
        self.monotonic += effect.seconds
        self.clock += effect.seconds

    def on_now(self, effect: Now) -> float:
        return self.monotonic if effect.monotonic else self.clock

    def on_authorize(self, effect: Authorize) -> AuthInfo:
        return self.authorize(effect.stale)

    def on_emit(self, effect: Emit) -> None:
        self.emitted.append(effect.item)

    def on_call(self, effect: Call) -> Any:
        return effect.fn(*effect.args)

    def on_run(self, effect: Run) -> Any:
        return effect.fn(*effect.args)


_HANDLERS: dict[type, str] = {
    Send: "on_send",
    Sleep: "on_sleep",
    Now: "on_now",
    Authorize: "on_authorize",
    Emit: "on_emit",
    Call: "on_call",
    Run: "on_run",
    Pull: "on_pull",
    FileOp: "on_fileop",
}
