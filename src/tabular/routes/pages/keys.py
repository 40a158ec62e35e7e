"""`/account/api-keys` (your keys: create, shown once; revoke; rotate) and `/account/organization-keys` (admins).

The forms call `ApiKeyService` as `/api/keys` and `/api/organization/keys` do; the guard decides each
request from the same policy rows (a path's key id is located in the caller's organization, or it is 404).
Revoking and rotating ask for confirmation in a disclosure (`<details>`), which needs no script.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any, Final

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from tabular.db import ApiKey
from tabular.errors import FieldError, ValidationFailed
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.routes.pages.account import AccountPage, Form, Shown
from tabular.routes.pages.rendering import PageController, optional, parse, render
from tabular.schemas.auth import WhoAmI
from tabular.schemas.common import MAX_LIMIT, Pagination
from tabular.schemas.keys import ApiKeyCreate, CreatedApiKey
from tabular.services.api_keys import ROTATION_GRACE, ApiKeyService
from tabular.services.workspaces import WorkspaceService
from tabular.vocabulary import Action, Resource

_ALL: Final = Pagination(limit=MAX_LIMIT)


class KeysPage(AccountPage):
    """The keys page: the key service its forms call, and what it shows beside their outcome."""

    template = "api_keys.html"

    @cached_property
    def keys(self) -> ApiKeyService:
        """What the page's forms call, as `/api/keys` does (built on first use, once)."""
        return ApiKeyService(self.actor)

    async def context(self, account: WhoAmI, *, created: CreatedApiKey | None = None, **shown: Any) -> Shown:  # noqa: ANN401
        """The keys and why none can be made yet, if so; a key just made (or rotated) is shown once."""
        if not account.mfa_enabled:
            blocked = "mfa_off"
        elif not account.mfa_verified:
            blocked = "mfa_unverified"
        elif not account.tier.is_paid:
            blocked = "free_tier"
        else:
            blocked = None
        return {
            "blocked": blocked,
            "keys": (await self.keys.list_own()).items,
            "workspaces": (await WorkspaceService(self.actor).listing(_ALL)).items,
            "created": created,
            "grace_hours": int(ROTATION_GRACE / dt.timedelta(hours=1)),
            **shown,
        }


class ApiKeyPages(PageController):
    """Your own API keys."""

    path = "/account/api-keys"
    dependencies = {"api_key": authorized(ApiKey), "page": KeysPage.provide()}  # noqa: RUF012

    @get("", **requires(Resource.API_KEY, Action.LIST))
    async def api_keys_page(self, page: NamedDependency[KeysPage]) -> Template:
        """Your keys, and the form that makes one (or why you cannot yet)."""
        return await page.show()

    @post("", **requires(Resource.API_KEY, Action.CREATE))
    async def create_key(self, page: NamedDependency[KeysPage]) -> Template:
        """A new key, shown on this page once; a refused form comes back filled in as it was sent."""

        async def create(form: Form) -> Shown:
            return {"created": await page.keys.create(parse(ApiKeyCreate, _create_form(form)))}

        return await page.submit(create)

    @post("/{key_id:uuid}/revoke", **requires(Resource.API_KEY, Action.DELETE, by="key_id"))
    async def revoke_key(self, page: NamedDependency[KeysPage], api_key: NamedDependency[ApiKey]) -> Template:
        """The key stops now: its next request gets 401."""
        await page.keys.revoke(api_key)
        return await page.show(notice=f"The key {api_key.name} ({api_key.prefix}…) is revoked.")

    @post("/{key_id:uuid}/rotate", **requires(Resource.API_KEY, Action.UPDATE, by="key_id"))
    async def rotate_key(self, page: NamedDependency[KeysPage], api_key: NamedDependency[ApiKey]) -> Template:
        """A successor, shown once; the old key keeps working through the grace period."""

        async def rotate(form: Form) -> Shown:
            return {"created": await page.keys.rotate(api_key, optional(form.get("password"))), "old_key": api_key}

        return await page.submit(rotate)


class OrganizationKeyPages(PageController):
    """Every key of the organization, by owner, for its admins."""

    path = "/account/organization-keys"
    dependencies = {"keys": service(ApiKeyService), "api_key": authorized(ApiKey)}  # noqa: RUF012

    @get("", **requires(Resource.ORGANIZATION_KEY, Action.LIST))
    async def organization_keys_page(
        self,
        request: Request[Any, Any, Any],
        keys: NamedDependency[ApiKeyService],
        pagination: NamedDependency[Pagination],
    ) -> Template:
        """Keys grouped by owner, a page at a time (`?limit=&offset=` as in the API); active ones can be revoked."""
        return render("organization_keys.html", request, page=await keys.list_organization(pagination))

    @post("/{key_id:uuid}/revoke", **requires(Resource.ORGANIZATION_KEY, Action.DELETE, by="key_id"))
    async def revoke_organization_key(
        self,
        request: Request[Any, Any, Any],
        keys: NamedDependency[ApiKeyService],
        api_key: NamedDependency[ApiKey],
        pagination: NamedDependency[Pagination],
    ) -> Template:
        """Any key of the organization stops now; audited with its owner. The page shown is the one it was on."""
        await keys.revoke_in_organization(api_key)
        notice = f"The key {api_key.name} ({api_key.prefix}…) is revoked."
        page = await keys.list_organization(pagination)
        return render("organization_keys.html", request, page=page, notice=notice)


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
