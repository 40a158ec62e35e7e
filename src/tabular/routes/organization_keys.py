"""`/api/organization/keys`: every API key of the organization, for its admins to review and revoke."""

from __future__ import annotations

from litestar import Controller, delete, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_204_NO_CONTENT

from tabular.db import ApiKey
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.schemas.common import Page, Pagination
from tabular.schemas.keys import OrganizationKeyView
from tabular.services.api_keys import ApiKeyService
from tabular.vocabulary import Action, Resource


class OrganizationKeyController(Controller):
    """Admins see whose keys exist (never a secret) and stop any of them; the owner keeps managing their own."""

    path = "/api/organization/keys"
    tags = ["keys"]  # noqa: RUF012
    dependencies = {"keys": service(ApiKeyService), "api_key": authorized(ApiKey)}  # noqa: RUF012

    @get("", **requires(Resource.ORGANIZATION_KEY, Action.LIST), summary="List the organization's API keys")
    async def list_organization_keys(
        self, pagination: NamedDependency[Pagination], keys: NamedDependency[ApiKeyService]
    ) -> Page[OrganizationKeyView]:
        """Every key with its owner, by the owner's email, newest first; revoked and expired ones too."""
        return await keys.list_organization(pagination)

    @delete(
        "/{key_id:uuid}",
        **requires(Resource.ORGANIZATION_KEY, Action.DELETE, by="key_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Revoke any API key of the organization",
    )
    async def revoke_organization_key(
        self, api_key: NamedDependency[ApiKey], keys: NamedDependency[ApiKeyService]
    ) -> None:
        """Immediate: the next request with the key gets 401. Audited (`api_key.revoked`, `revoked_by_admin`)."""
        await keys.revoke_in_organization(api_key)
