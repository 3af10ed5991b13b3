"""Drive core flows by hand, without an event loop (h11/gidgethub style)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogoogle._effects import AuthInfo, Authorize, Call, Emit, FileOp, Now, Pull, Send, Sleep
from aiogoogle._http import Headers, HttpRequest, HttpResponse

Responder = Callable[[HttpRequest], "HttpResponse | BaseException"]


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, Headers(headers or {}), body)


class FlowRunner:
    """Runs a flow, answering ``Send`` with ``responder`` and recording every effect."""

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
            if isinstance(effect, Send):
                self.sent.append(effect.request)
                outcome = self.responder(effect.request)
                if isinstance(outcome, BaseException):
                    error = outcome
                else:
                    reply = outcome
            elif isinstance(effect, Sleep):
                self.slept.append(effect.seconds)
                self.monotonic += effect.seconds
                self.clock += effect.seconds
            elif isinstance(effect, Now):
                reply = self.monotonic if effect.monotonic else self.clock
            elif isinstance(effect, Authorize):
                reply = self.authorize(effect.stale)
            elif isinstance(effect, Emit):
                self.emitted.append(effect.item)
            elif isinstance(effect, Call):
                reply = effect.fn(*effect.args)
            elif isinstance(effect, (Pull, FileOp)):
                raise AssertionError(f"unexpected effect {effect!r}")
            else:
                raise AssertionError(f"not an effect: {effect!r}")
