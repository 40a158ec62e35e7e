"""What a route adds to a page that continues by cursor: the `Link: <…>; rel="next"` header (RFC 8288)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final, TypeVar
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.datastructures import ResponseHeader
from litestar.params import QueryParameter

if TYPE_CHECKING:
    from tabular.schemas.common import CursorPage

T = TypeVar("T")

Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=2000,
        description="Continue after the last item of a page: its `next` (opaque; replaces `offset`)",
    ),
]
"""`?cursor=`, as the lists that page by cursor take it."""

NEXT_LINK: Final = [
    ResponseHeader(
        name="Link",
        description='`<…?cursor=…>; rel="next"`: the next page (the body\'s `next`), absent on the last one',
        value="",  # documents the header as a string; never sent as such (documentation only)
        documentation_only=True,
    )
]


def linked(request: Request[Any, Any, Any], page: CursorPage[T]) -> Response[CursorPage[T]]:
    """The page, with a `Link` to the next one: this request's path and query, `offset` dropped, `cursor` set.

    The target is relative to the server (RFC 3986 resolves it against the request's own URL), so it holds
    behind a proxy that rewrites the host or the scheme.
    """
    if page.next is None:
        return Response(page)
    query = [(name, value) for name, value in request.query_params.multi_items() if name not in {"cursor", "offset"}]
    target = f"{request.url.path}?{urlencode([*query, ('cursor', page.next)])}"
    return Response(page, headers={"Link": f'<{target}>; rel="next"'})
