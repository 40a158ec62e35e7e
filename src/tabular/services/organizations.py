"""Organizations: the tenants. Only operators make them (`tabular users create --org`, the demo)."""

from __future__ import annotations

from sqlalchemy import select

from tabular.db import Organization, Tier
from tabular.services.actor import Service


class OrganizationService(Service):
    """Finds and creates tenants."""

    async def get_or_create(self, name: str, tier: Tier | None = None) -> Organization:
        """The organization called `name`, created (on `tier`, default free) if missing; `tier` updates one found."""
        organization: Organization | None = await self.session.scalar(
            select(Organization).where(Organization.name == name)
        )
        if organization is None:
            organization = Organization(name=name, tier=tier or Tier.FREE)
            self.session.add(organization)
        elif tier is not None:
            organization.tier = tier
        await self.session.flush()
        return organization
