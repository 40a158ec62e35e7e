"""Organizations: the tenants."""

from __future__ import annotations

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService

from tabular.db import Organization, Tier


class OrganizationService(SQLAlchemyAsyncRepositoryService[Organization]):
    """Creates and finds tenants."""

    class Repository(SQLAlchemyAsyncRepository[Organization]):
        """Organization rows."""

        model_type = Organization

    repository_type = Repository

    async def get_or_create(self, name: str, tier: Tier | None = None) -> Organization:
        """The organization called `name`, created (on `tier`, default free) if missing; `tier` updates one found."""
        organization = await self.get_one_or_none(name=name)
        if organization is None:
            return await self.create(Organization(name=name, tier=tier or Tier.FREE))
        if tier is not None and organization.tier is not tier:
            organization.tier = tier
            await self.repository.session.flush()
        return organization
