"""`/api/keys`: the caller's own API keys."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from tabular.auth.engine import AuthEngine
from tabular.auth.principal import Principal
from tabular.db import ApiKey
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.schemas.keys import ApiKeyCreate, ApiKeyList, CreatedApiKey
from tabular.services.api_keys import ApiKeyService
from tabular.vocabulary import Action, Resource


def provide_api_key_service(
    db_session: NamedDependency[AsyncSession], auth_engine: NamedDependency[AuthEngine]
) -> ApiKeyService:
    """One service per request, on the request's transaction."""
    return ApiKeyService(db_session, auth_engine.identities)


class ApiKeyController(Controller):
    """Create needs a session with MFA on a paid tier; a key may list and revoke its owner's keys."""

    path = "/api/keys"
    tags = ["keys"]  # noqa: RUF012
    dependencies = {  # noqa: RUF012
        "api_key_service": Provide(provide_api_key_service, sync_to_thread=False),
        "api_key": authorized(ApiKey),
    }

    @get("", **requires(Resource.API_KEY, Action.LIST), summary="List your API keys (never the secrets)")
    async def list_keys(
        self, principal: NamedDependency[Principal], api_key_service: NamedDependency[ApiKeyService]
    ) -> ApiKeyList:
        """Newest first, with status, expiry and last use."""
        return ApiKeyList(items=await api_key_service.list_own(principal.user_id))

    @post("", **requires(Resource.API_KEY, Action.CREATE), status_code=HTTP_201_CREATED, summary="Create an API key")
    async def create_key(
        self,
        data: JSONBody[ApiKeyCreate],
        principal: NamedDependency[Principal],
        api_key_service: NamedDependency[ApiKeyService],
        client_ip: NamedDependency[str],
    ) -> CreatedApiKey:
        """The key is in this answer only; store it now."""
        return await api_key_service.create(principal.user_id, data, client_ip, second_factor=principal.mfa_verified)

    @delete(
        "/{key_id:uuid}",
        **requires(Resource.API_KEY, Action.DELETE, by="key_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Revoke an API key",
    )
    async def revoke_key(
        self,
        api_key: NamedDependency[ApiKey],
        principal: NamedDependency[Principal],
        api_key_service: NamedDependency[ApiKeyService],
        client_ip: NamedDependency[str],
    ) -> None:
        """Immediate: the next request with the key gets 401."""
        await api_key_service.revoke(principal.user_id, api_key, client_ip)

    @post(
        "/{key_id:uuid}/rotate",
        **requires(Resource.API_KEY, Action.UPDATE, by="key_id"),
        status_code=HTTP_201_CREATED,
        summary="Rotate an API key",
    )
    async def rotate_key(
        self,
        api_key: NamedDependency[ApiKey],
        principal: NamedDependency[Principal],
        api_key_service: NamedDependency[ApiKeyService],
        client_ip: NamedDependency[str],
    ) -> CreatedApiKey:
        """A successor key; the old one keeps working for 24 hours, then stops."""
        return await api_key_service.rotate(principal.user_id, api_key, client_ip, second_factor=principal.mfa_verified)
