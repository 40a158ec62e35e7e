"""The database's locator: one SELECT that finds an object, loads it and reads its placement, in the tenant.

Another organization's object and a missing one take the same path (no row) and become the same 404.
The row it loads is the one the handler acts on: authorization is the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import null, select

from tabular.policies.authorize import Located
from tabular.policies.decision import Target
from tabular.policies.placement import PLACEMENTS

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.policies.authorize import Address


@dataclass(frozen=True, slots=True)
class TenantLookup:
    """Locates objects on `session`, only inside `organization_id`."""

    session: AsyncSession
    organization_id: UUID

    async def __call__(self, address: Address) -> Located | None:
        """The row at `address` with its organization, workspace and owner, or None."""
        placement = PLACEMENTS[address.resource]
        workspace = null() if placement.workspace is None else placement.workspace
        owner = null() if placement.owner is None else placement.owner
        query = select(placement.model, placement.organization, workspace, owner)
        if placement.tenant is not None:
            query = query.join(*placement.tenant)
        query = query.where(placement.model.id == address.id, placement.organization == self.organization_id)
        found = (await self.session.execute(query)).first()
        if found is None:
            return None
        row, organization_id, workspace_id, owner_id = found
        return Located(Target(organization_id, workspace_id=workspace_id, owner_id=owner_id), row)
