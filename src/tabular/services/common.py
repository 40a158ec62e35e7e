"""What every service shares: one page of a list, the tenant check on a row (rows become Structs by `wire`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select

from tabular.errors import NotFound
from tabular.schemas.common import Page

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Row, Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import Principal
    from tabular.db import Workspace
    from tabular.schemas.common import Pagination

ViewT = TypeVar("ViewT")


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
        total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return Page(items=[item(row) for row in rows], total=total, limit=pagination.limit, offset=pagination.offset)


def in_organization(workspace: Workspace, principal: Principal) -> None:
    """Defence in depth before writing into `workspace`: another organization's is a 404, never a write.

    The guard found it in the caller's organization; a create path checks again, on the row, without a query.
    """
    if workspace.organization_id != principal.organization_id:
        raise NotFound
