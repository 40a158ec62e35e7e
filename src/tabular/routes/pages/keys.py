"""`/account/api-keys` (your keys: create, shown once; revoke; rotate) and `/account/organization-keys` (admins).

The forms call `ApiKeyService` as `/api/keys` and `/api/organization/keys` do; the guard decides each
request from the same policy rows (a path's key id is located in the caller's organization, or it is 404).
Revoking and rotating ask for confirmation in a disclosure (`<details>`), which needs no script.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from tabular.auth.identities import IdentityStore
from tabular.auth.principal import Principal
from tabular.db import ApiKey
from tabular.errors import FieldError, TabularError, ValidationFailed
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.routes.pages.rendering import Failure, PageController, form_of, optional, parse, render
from tabular.schemas.common import MAX_LIMIT, Pagination
from tabular.schemas.keys import ApiKeyCreate, CreatedApiKey
from tabular.services.api_keys import ROTATION_GRACE, ApiKeyService
from tabular.services.auth import who_am_i
from tabular.services.passwords import PasswordService
from tabular.services.workspaces import WorkspaceService
from tabular.vocabulary import Action, Resource

_ALL: Final = Pagination(limit=MAX_LIMIT)


class KeysContext:
    """The keys page for this request: the key service its forms call, and what it shows beside their outcome."""

    def __init__(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        identities: NamedDependency[IdentityStore],
        keys: NamedDependency[ApiKeyService],
        workspaces: NamedDependency[WorkspaceService],
        passwords: NamedDependency[PasswordService],
    ) -> None:
        self.request, self.principal, self.identities, self.keys = request, principal, identities, keys
        self.workspaces, self.passwords = workspaces, passwords

    async def render(
        self,
        failure: Failure | None = None,
        *,
        created: CreatedApiKey | None = None,
        **context: Any,  # noqa: ANN401
    ) -> Template:
        """The page, with a key just made (or rotated) shown once."""
        account = await who_am_i(self.identities, self.principal)
        if not account.mfa_enabled:
            blocked = "mfa_off"
        elif not account.mfa_verified:
            blocked = "mfa_unverified"
        elif not account.tier.is_paid:
            blocked = "free_tier"
        else:
            blocked = None
        return render(
            "api_keys.html",
            self.request,
            failure=failure,
            account=account,
            blocked=blocked,
            keys=(await self.keys.list_own()).items,
            workspaces=(await self.workspaces.listing(_ALL)).items,
            needs_password=not self.passwords.signed_in_recently(),
            created=created,
            grace_hours=int(ROTATION_GRACE / dt.timedelta(hours=1)),
            **context,
        )


class ApiKeyPages(PageController):
    """Your own API keys."""

    path = "/account/api-keys"
    dependencies = {  # noqa: RUF012
        "keys": service(ApiKeyService),
        "workspaces": service(WorkspaceService),
        "passwords": service(PasswordService),
        "api_key": authorized(ApiKey),
        "context": Provide(KeysContext, sync_to_thread=False),
    }

    @get("", **requires(Resource.API_KEY, Action.LIST))
    async def api_keys_page(self, context: NamedDependency[KeysContext]) -> Template:
        """Your keys, and the form that makes one (or why you cannot yet)."""
        return await context.render()

    @post("", **requires(Resource.API_KEY, Action.CREATE))
    async def create_key(self, context: NamedDependency[KeysContext]) -> Template:
        """A new key, shown on this page once."""
        form = await form_of(context.request)
        try:
            body = parse(ApiKeyCreate, _create_form(form))
            created = await context.keys.create(body)
        except TabularError as error:
            return await context.render(Failure.of(error), form=form)
        return await context.render(created=created)

    @post("/{key_id:uuid}/revoke", **requires(Resource.API_KEY, Action.DELETE, by="key_id"))
    async def revoke_key(self, context: NamedDependency[KeysContext], api_key: NamedDependency[ApiKey]) -> Template:
        """The key stops now: its next request gets 401."""
        await context.keys.revoke(api_key)
        return await context.render(notice=f"The key {api_key.name} ({api_key.prefix}…) is revoked.")

    @post("/{key_id:uuid}/rotate", **requires(Resource.API_KEY, Action.UPDATE, by="key_id"))
    async def rotate_key(self, context: NamedDependency[KeysContext], api_key: NamedDependency[ApiKey]) -> Template:
        """A successor, shown once; the old key keeps working through the grace period."""
        form = await form_of(context.request)
        try:
            created = await context.keys.rotate(api_key, optional(form.get("password")))
        except TabularError as error:
            return await context.render(Failure.of(error))
        return await context.render(created=created, old_key=api_key)


class OrganizationKeyPages(PageController):
    """Every key of the organization, by owner, for its admins."""

    path = "/account/organization-keys"
    dependencies = {"keys": service(ApiKeyService), "api_key": authorized(ApiKey)}  # noqa: RUF012

    @get("", **requires(Resource.ORGANIZATION_KEY, Action.LIST))
    async def organization_keys_page(
        self, request: Request[Any, Any, Any], keys: NamedDependency[ApiKeyService]
    ) -> Template:
        """Keys grouped by owner; active ones can be revoked."""
        return render("organization_keys.html", request, keys=(await keys.list_organization(_ALL)).items)

    @post("/{key_id:uuid}/revoke", **requires(Resource.ORGANIZATION_KEY, Action.DELETE, by="key_id"))
    async def revoke_organization_key(
        self, request: Request[Any, Any, Any], keys: NamedDependency[ApiKeyService], api_key: NamedDependency[ApiKey]
    ) -> Template:
        """Any key of the organization stops now; audited with its owner."""
        await keys.revoke_in_organization(api_key)
        notice = f"The key {api_key.name} ({api_key.prefix}…) is revoked."
        return render("organization_keys.html", request, keys=(await keys.list_organization(_ALL)).items, notice=notice)


def _create_form(form: dict[str, str]) -> dict[str, object]:
    """The form's fields as `ApiKeyCreate`'s: an expiry date means the end of that day (UTC)."""
    expires = optional(form.get("expires_on"))
    expires_at = None
    if expires is not None:
        try:
            day = dt.date.fromisoformat(expires)
        except ValueError:
            error = FieldError(message="a date such as 2027-01-31", field="expires_on", source="body")
            raise ValidationFailed("The expiry is not a date.", errors=[error]) from None
        expires_at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC).isoformat()
    return {
        "name": form.get("name", ""),
        "expires_at": expires_at,
        "read_only": form.get("read_only") == "on",
        "workspace_id": optional(form.get("workspace_id")),
        "password": optional(form.get("password")),
    }
