"""Page tokens (AIP-158, https://google.aip.dev/158): pure request building for the next page.

The next page's request is the previous request with the page token replaced: in the query
(``pageToken=``) or, for the methods that take it in the request body, in the JSON body.
The token comes from the response field ``nextPageToken`` (BigQuery's ``tabledata.list`` and
``jobs.getQueryResults`` call it ``pageToken``). Iteration stops when the token is missing,
empty, or repeats one already seen (a server bug that would otherwise loop forever).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._url import encode_query_value

if TYPE_CHECKING:
    from .models import Request, Response

__all__ = ["DEFAULT_REQ_TOKEN", "DEFAULT_RES_TOKEN", "items_of", "next_page_request", "next_page_token"]

DEFAULT_REQ_TOKEN = "pageToken"
DEFAULT_RES_TOKEN = "nextPageToken"


def next_page_token(content: Any, res_token_name: str | None = None) -> str | None:
    """The token of the next page in a response body, or ``None`` on the last page."""
    if not isinstance(content, dict):
        return None
    if res_token_name is not None:
        token = content.get(res_token_name)
    elif DEFAULT_RES_TOKEN in content:
        token = content.get(DEFAULT_RES_TOKEN)
    else:
        # BigQuery returns the next token as "pageToken".
        token = content.get("pageToken")
    # A token is a string (some APIs send a number); anything else, such as an object a
    # broken server put there, is not a token and ends the iteration.
    if isinstance(token, bool) or not isinstance(token, (str, int)) or token == "":
        return None
    return str(token)


def with_query_param(url: str, name: str, value: str) -> str:
    """``url`` with every ``name=`` pair replaced by one carrying ``value`` (other pairs are
    kept byte for byte, so nothing else is re-encoded)."""
    base, sep, rest = url.partition("?")
    query, hash_sep, fragment = rest.partition("#")
    key = encode_query_value(name)
    pairs = [p for p in query.split("&") if p and p.split("=", 1)[0] != key] if sep else []
    pairs.append(f"{key}={encode_query_value(value)}")
    return f"{base}?{'&'.join(pairs)}{hash_sep}{fragment}"


def next_page_request(
    response: Response,
    req_token_name: str | None = None,
    res_token_name: str | None = None,
    json_req: bool = False,
) -> Request | None:
    """A new request for the page after ``response``, or ``None`` on the last page."""
    request = response.req
    if request is None or request.url is None:
        return None
    token = next_page_token(response.json, res_token_name)
    if token is None:
        return None
    name = req_token_name or DEFAULT_REQ_TOKEN
    nxt = request.copy()
    if json_req:
        body = dict(request.json) if isinstance(request.json, dict) else {}
        body[name] = token
        nxt.json = body
    else:
        nxt.url = with_query_param(request.url, name, token)
    return nxt


def request_token(request: Request | None, name: str, json_req: bool) -> str | None:
    """The page token ``request`` carries (in its JSON body or its query), if any."""
    if request is None:
        return None
    if json_req:
        value = request.json.get(name) if isinstance(request.json, dict) else None
        return str(value) if value else None
    from urllib.parse import parse_qsl, urlsplit

    for key, value in parse_qsl(urlsplit(request.url or "").query, keep_blank_values=True):
        if key == name and value:
            return value
    return None


def items_of(page: Any, field: str | None = None) -> Iterator[Any]:
    """The items of one page: ``page[field]``, or ``page["items"]``, or the page's only
    list-valued field."""
    if not isinstance(page, dict):
        return iter(())
    if field is not None:
        value = page.get(field)
        return iter(value) if isinstance(value, list) else iter(())
    if isinstance(page.get("items"), list):
        return iter(page["items"])
    lists = [v for v in page.values() if isinstance(v, list)]
    return iter(lists[0]) if len(lists) == 1 else iter(())
