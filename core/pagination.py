"""Pagination (AIP-158, https://google.aip.dev/158): the next page's request is built by
:mod:`aiogoogle._page_tokens` (pure), and :func:`pages_flow` fetches page after page.

The next page's request is the previous request with the page token replaced: in the query
(``pageToken=``) or, for the methods that take it in the request body, in the JSON body.
The token comes from the response field ``nextPageToken`` (BigQuery's ``tabledata.list`` and
``jobs.getQueryResults`` call it ``pageToken``). Iteration stops when the token is missing,
empty, or repeats one already seen (a server bug that would otherwise loop forever).
"""

from __future__ import annotations

from ._effects import Emit, Flow
from ._page_tokens import (
    DEFAULT_REQ_TOKEN,
    DEFAULT_RES_TOKEN,
    items_of,
    next_page_request,
    next_page_token,
    request_token,
    with_query_param,
)
from ._send import CallOptions, plain_call_flow
from .models import Response

__all__ = ["DEFAULT_REQ_TOKEN", "DEFAULT_RES_TOKEN", "items_of", "next_page_request", "next_page_token", "pages_flow", "with_query_param"]


def pages_flow(
    first: Response,
    options: CallOptions,
    req_token_name: str | None = None,
    res_token_name: str | None = None,
    json_req: bool = False,
) -> Flow[None]:
    """Emit the content of ``first`` and of every following page."""
    response = first
    # The token the first request was sent with counts as seen: a server handing it back
    # would otherwise make us fetch the same page again.
    seen: set[str] = set()
    own = request_token(first.req, req_token_name or DEFAULT_REQ_TOKEN, json_req)
    if own is not None:
        seen.add(own)
    while True:
        yield Emit(response.content)
        token = next_page_token(response.json, res_token_name)
        if token is None or token in seen:
            return
        seen.add(token)
        nxt = next_page_request(response, req_token_name, res_token_name, json_req)
        if nxt is None:
            return
        response = yield from plain_call_flow(nxt, options)
        response.raise_for_status()
