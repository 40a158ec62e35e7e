"""Helpers every service uses: paging a query, names as they are stored, the tenant check on a row."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from tabular.errors import FieldError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy import Row, Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import Principal
    from tabular.db import Workspace
    from tabular.schemas.common import Pagination


async def paginate(session: AsyncSession, query: Select[Any], pagination: Pagination) -> tuple[list[Row[Any]], int]:
    """One page of an ordered query's rows, and how many rows it matches in all (counted only when needed)."""
    rows = list((await session.execute(query.limit(pagination.limit).offset(pagination.offset))).all())
    if pagination.offset == 0 and len(rows) < pagination.limit:
        return rows, len(rows)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return rows, total or 0


def clean_name(name: str, field: str = "name") -> str:
    """A name as stored: trimmed, not blank, no control characters (PostgreSQL refuses NUL in text)."""
    name = name.strip()
    if not name or any(unicodedata.category(character) == "Cc" for character in name):
        raise ValidationFailed(
            f"Give a {field} of printable characters.",
            errors=[FieldError(message="must not be blank or contain control characters", field=field, source="body")],
        )
    return name


def in_organization(workspace: Workspace, principal: Principal) -> None:
    """Defence in depth before writing into `workspace`: another organization's is a 404, never a write.

    The guard found it in the caller's organization; a create path checks again, on the row, without a query.
    """
    if workspace.organization_id != principal.organization_id:
        raise NotFound
