"""Conventions shared by every resource: pages of results, and how a row becomes what the API says of it."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

import msgspec

T = TypeVar("T")
U = TypeVar("U")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000
"""Far past any list's end, and inside every engine's integers (an offset past 64 bits reached the database)."""


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """The seed's `{"data": …, "success": 1}` answer, kept by `/api/auth…`: a subclass declares its `data`."""

    success: Literal[1] = 1


class Pagination(msgspec.Struct, frozen=True):
    """`limit` (1-200, default 50) and `offset` (0 to a billion, default 0) from the query string."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


class Page(msgspec.Struct, Generic[T], frozen=True):
    """One page of a list, with the total the filters match."""

    items: list[T]
    total: int
    limit: int
    offset: int

    def with_items(self, items: list[U]) -> Page[U]:
        """The same page, its items made into others (one each)."""
        return Page(items=items, total=self.total, limit=self.limit, offset=self.offset)


class CursorPage(Page[T], Generic[T], frozen=True):
    """A page of a list that also pages by cursor: `next` continues after its last item (null at the end).

    A cursor names a position, not a count, so rows added meanwhile neither repeat nor go missing.
    """

    next: str | None = None


class _Merged:
    """A row's attributes, with some replaced or added, for `wire`."""

    __slots__ = ("_extra", "_row")

    def __init__(self, row: object, extra: dict[str, Any]) -> None:
        self._row = row
        self._extra = extra

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - whatever the row holds
        extra = self._extra
        return extra[name] if name in extra else getattr(self._row, name)


def wire(view: type[T], row: object, **extra: Any) -> T:  # noqa: ANN401
    """`view` made from a row: each field read from the row's attribute of that name, or from `extra`.

    The one mapping from models to the API's Structs (and to the engine's value objects); `extra` supplies
    what the row does not hold under the field's name (counts, related ids, a column named otherwise). Types
    convert as msgspec does on decoding, strictly (the ids a JSON column keeps as strings become UUIDs).
    """
    return msgspec.convert(_Merged(row, extra) if extra else row, view, from_attributes=True)
