"""Conventions shared by every resource: pages of results."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Pagination(msgspec.Struct, frozen=True):
    """`limit` (1-200, default 50) and `offset` (default 0) from the query string."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


class Page(msgspec.Struct, Generic[T], frozen=True):
    """One page of a list, with the total the filters match."""

    items: list[T]
    total: int
    limit: int
    offset: int
