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
    try:
        if request.batch is not None:
            # A batch yields one outcome per part; Aiogoogle._one unpacks the list.
            return (yield from batch_flow(request, options))  # type: ignore[return-value]
        if request.media_upload is not None:
            return (yield from upload_flow(request, options))
        if request.media_download is not None:
            return (yield from download_flow(request, options))
        return (yield from plain_call_flow(request, options))
    except RedirectError as exc:
        _name_request(exc, request)
        raise
