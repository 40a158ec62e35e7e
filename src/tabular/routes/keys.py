"""`/api/keys`: the caller's own API keys."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tabular.db import ApiKey
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.schemas.keys import ApiKeyCreate, ApiKeyList, CreatedApiKey
from tabular.schemas.rules import PasswordProof
from tabular.services.api_keys import ApiKeyService
from tabular.vocabulary import Action, Resource


class ApiKeyController(Controller):
    """Create needs a session with MFA on a paid tier; a key may list and revoke its owner's keys."""

    path = "/api/keys"
    tags = ["keys"]  # noqa: RUF012
    dependencies = {"keys": service(ApiKeyService), "api_key": authorized(ApiKey)}  # noqa: RUF012

    @get("", **requires(Resource.API_KEY, Action.LIST), summary="List your API keys (never the secrets)")
    async def list_api_keys(self, keys: NamedDependency[ApiKeyService]) -> ApiKeyList:
        """Newest first, with status, expiry and last use."""
        return await keys.list_own()

    @post("", **requires(Resource.API_KEY, Action.CREATE), status_code=HTTP_201_CREATED, summary="Create an API key")
    async def create_api_key(self, data: JSONBody[ApiKeyCreate], keys: NamedDependency[ApiKeyService]) -> CreatedApiKey:
        """The key is in this answer only; store it now. Needs a recent proof of the password."""
        return await keys.create(data)

    @delete(
        "/{key_id:uuid}",
        **requires(Resource.API_KEY, Action.DELETE, by="key_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Revoke an API key",
    )
    async def revoke_api_key(self, api_key: NamedDependency[ApiKey], keys: NamedDependency[ApiKeyService]) -> None:
        """Immediate: the next request with the key gets 401."""
        await keys.revoke(api_key)

    @post(
        "/{key_id:uuid}/rotate",
        **requires(
            Resource.API_KEY,
            Action.UPDATE,
            by="key_id",
            problems={409: "A revoked or expired key cannot be rotated (`api_key_inactive`)"},
        ),
        status_code=HTTP_201_CREATED,
        summary="Rotate an API key",
    )
    async def rotate_api_key(
        self,
        api_key: NamedDependency[ApiKey],
        keys: NamedDependency[ApiKeyService],
        data: JSONBody[PasswordProof | None] = None,
    ) -> CreatedApiKey:
        """A successor key; the old one keeps working for 24 hours, then stops. Needs a recent proof of the password."""
        return await keys.rotate(api_key, data.password if data else None)
