"""What every service shares: one page of a list, the tenant check on a row (rows become Structs by `wire`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

import msgspec
from sqlalchemy import and_, func, or_, select

from tabular.auth.tokens import Audience, TokenError
from tabular.errors import FieldError, NotFound, ValidationFailed
from tabular.schemas.common import CursorPage, Page

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import ColumnElement, Row, Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import InstrumentedAttribute

    from tabular.auth.principal import Principal
    from tabular.auth.tokens import TokenCodec
    from tabular.db import Workspace
    from tabular.schemas.common import Pagination

ViewT = TypeVar("ViewT")

CURSOR_LIFETIME: Final = dt.timedelta(days=30)
"""How long a cursor keeps working: an export paused over a weekend resumes; `since` serves beyond that."""


async def page(
    session: AsyncSession,
    query: Select[Any],
    pagination: Pagination,
    item: Callable[[Row[Any]], ViewT],
) -> Page[ViewT]:
    """One page of an ordered query, each row made an item, and how many rows match in all.

    The total costs a COUNT only when the page does not already tell it (a first page shorter than the limit).
    """
    rows = list((await session.execute(query.limit(pagination.limit).offset(pagination.offset))).all())
    if pagination.offset == 0 and len(rows) < pagination.limit:
        total = len(rows)
    else:
        total = await _count(session, query)
    return Page(items=[item(row) for row in rows], total=total, limit=pagination.limit, offset=pagination.offset)


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    return await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


class _Position(msgspec.Struct, frozen=True):
    """A cursor's claims: which list it belongs to, and the sort key of the last row it was given."""

    of: str
    after: list[str]


@dataclass(frozen=True, slots=True)
class Keyset:
    """How a list sorted newest first by `columns` (descending, the last one unique) pages by cursor.

    `of` names the list (`responses:<survey id>`): a cursor signed for one list is refused by every other.
    `parse` turns each column's written value back into the column's type.
    """

    codec: TokenCodec
    of: str
    columns: tuple[InstrumentedAttribute[Any], ...]
    parse: tuple[Any, ...]

    def cursor_after(self, row: object) -> str:
        """A cursor continuing after `row` (an instance of the model the columns are of)."""
        values = [getattr(row, column.key) for column in self.columns]
        after = [value.isoformat() if isinstance(value, dt.datetime) else str(value) for value in values]
        return self.codec.sign(Audience.CURSOR, _Position(of=self.of, after=after), CURSOR_LIFETIME)[0]

    def rows_after(self, cursor: str) -> ColumnElement[bool]:
        """The rows that come after the cursor's position: a 422 naming `cursor` for one this list never gave."""
        try:
            position = self.codec.read(cursor, Audience.CURSOR, _Position)
            if position.of != self.of or len(position.after) != len(self.columns):
                raise ValueError(position.of)  # noqa: TRY301 - one refusal for every way a cursor is wrong
            values = [parse(value) for parse, value in zip(self.parse, position.after, strict=True)]
        except (TokenError, ValueError) as error:
            expired = isinstance(error, TokenError) and error.expired
            message = "expired: start again from the first page" if expired else "not a cursor this list gave"
            raise ValidationFailed(
                "Send `cursor` as the list gave it (its `next`).",
                errors=[FieldError(message=message, field="cursor", source="query")],
            ) from None
        columns = self.columns
        return or_(
            *(and_(*(columns[j] == values[j] for j in range(i)), columns[i] < values[i]) for i in range(len(columns)))
        )


async def cursor_page(  # noqa: PLR0913 - the same as `page`, and where the page starts
    session: AsyncSession,
    query: Select[Any],
    pagination: Pagination,
    item: Callable[[Row[Any]], ViewT],
    *,
    keyset: Keyset,
    cursor: str | None,
) -> CursorPage[ViewT]:
    """`page`, starting after `cursor` when one is given, with the cursor of the next page (if there is one).

    `total` counts the whole list, as `page` does. A cursor replaces `offset`; both at once is a 422.
    """
    paged = query
    if cursor is not None:
        if pagination.offset:
            raise ValidationFailed(
                "Give `offset` or `cursor`, not both.",
                errors=[FieldError(message="not with a cursor", field="offset", source="query")],
            )
        paged = query.where(keyset.rows_after(cursor))
    result = await session.execute(paged.limit(pagination.limit + 1).offset(pagination.offset))
    rows = list(result.all())
    more = len(rows) > pagination.limit
    rows = rows[: pagination.limit]
    first = cursor is None and pagination.offset == 0
    total = len(rows) if first and not more else await _count(session, query)
    return CursorPage(
        items=[item(row) for row in rows],
        total=total,
        limit=pagination.limit,
        offset=pagination.offset,
        next=keyset.cursor_after(rows[-1][0]) if more else None,
    )


def in_organization(workspace: Workspace, principal: Principal) -> None:
    """Defence in depth before writing into `workspace`: another organization's is a 404, never a write.

    The guard found it in the caller's organization; a create path checks again, on the row, without a query.
    """
    if workspace.organization_id != principal.organization_id:
        raise NotFound


def aware(moment: dt.datetime, field: str) -> dt.datetime:
    """A time from the query string, in UTC; one without a zone is a 422 naming `field` (it would be a guess)."""
    if moment.tzinfo is None:
        raise ValidationFailed(
            f"Give `{field}` with a time zone, e.g. 2026-01-31T00:00:00Z.",
            errors=[FieldError(message="a timezone is required", field=field, source="query")],
        )
    return moment.astimezone(dt.UTC)
