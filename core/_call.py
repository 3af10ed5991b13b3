"""The flow of one API call: from a :class:`~aiogoogle.models.Request` to a
:class:`~aiogoogle.models.Response`, through the flow its kind needs (batch, media upload,
media download, or a plain exchange, :mod:`aiogoogle._send`).

This module sits above the flows it dispatches to; they build on :mod:`aiogoogle._send`,
never on this module. Its other names are re-exported from :mod:`aiogoogle._send`.
"""

from __future__ import annotations

from ._effects import Flow
from ._send import (
    API_CLIENT,
    USER_AGENT,
    CallOptions,
    _name_request,
    apply_auth,
    base_headers,
    build_response,
    encode_body,
    exchange_timeout,
    plain_call_flow,
    send_flow,
    shown_url,
    to_http,
)
from .batch import batch_flow
from .excs import RedirectError
from .media import download_flow, upload_flow
from .models import Request, Response

__all__ = [
    "API_CLIENT",
    "USER_AGENT",
    "CallOptions",
    "apply_auth",
    "base_headers",
    "build_response",
    "call_flow",
    "encode_body",
    "exchange_timeout",
    "plain_call_flow",
    "send_flow",
    "shown_url",
    "to_http",
]


def call_flow(request: Request, options: CallOptions) -> Flow[Response]:
    """The whole call: dispatches media, batch and plain requests."""
    if request.batch is None and request.media_upload is None and request.media_download is None:
        # A plain request is plain_call_flow's own flow (which names the request in a
        # RedirectError itself): one generator fewer to make and for every effect to pass
        # through (with the client's cuts of the same change, 198k -> 168k instructions per
        # call in benchmarks/bench_call_overhead.py, counted by callgrind).
        return plain_call_flow(request, options)
    return _special_call_flow(request, options)


def _special_call_flow(request: Request, options: CallOptions) -> Flow[Response]:
    """A batch, upload or download; a RedirectError names the user's request."""
    try:
        if request.batch is not None:
            # A batch yields one outcome per part; Aiogoogle._one unpacks the list.
            return (yield from batch_flow(request, options))  # type: ignore[return-value]
        if request.media_upload is not None:
            return (yield from upload_flow(request, options))
        return (yield from download_flow(request, options))
    except RedirectError as exc:
        _name_request(exc, request)
        raise
