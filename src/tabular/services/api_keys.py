"""API keys of the caller: list, create (shown once), revoke, rotate with a grace period."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from tabular.auth.api_key_backend import generate_key
from tabular.auth.subjects import PAID_TIER_REQUIRED
from tabular.db import ApiKey, Organization, User, Workspace, WorkspaceMembership
from tabular.db.audit import AuditEventType
from tabular.db.base import utcnow
from tabular.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from tabular.policies.filters import visible
from tabular.schemas.common import Page, Pagination, wire
from tabular.schemas.keys import (
    ApiKeyCreate,
    ApiKeyList,
    ApiKeyView,
    CreatedApiKey,
    KeyOwner,
    KeyStatus,
    OrganizationKeyView,
)
from tabular.services.actor import Service
from tabular.services.common import page
from tabular.services.passwords import PasswordService
from tabular.vocabulary import Resource, Role

if TYPE_CHECKING:
    from uuid import UUID

ROTATION_GRACE: Final = dt.timedelta(hours=24)
"""How long a rotated key keeps working, so deployments can switch to its successor."""


class ApiKeyService(Service):
    """Keys belong to their creator; nobody else sees or changes them (another's key id is a 404).

    The keys are the caller's; an operator at the CLI names the user instead (`for_user`).
    """

    async def list_organization(self, pagination: Pagination) -> Page[OrganizationKeyView]:
        """Every key of the caller's organization (an admin's review), by owner's email, then newest first."""
        query = (
            select(ApiKey, User)
            .join(User, User.id == ApiKey.user_id)
            .where(visible(self.actor.caller, Resource.ORGANIZATION_KEY))
            .order_by(User.email, ApiKey.created_at.desc(), ApiKey.id.desc())
        )
        return await page(self.session, query, pagination, lambda row: organization_view(row[0], row[1]))

    async def revoke_in_organization(self, key: ApiKey) -> None:
        """An admin stops any key of the organization now; audited with the owner, so they can be told why.

        The guard located the key in the caller's organization; the owner's row is read again here as defence
        in depth, so no caller can revoke another tenant's key through this path.
        """
        owner = await self.session.get(User, key.user_id)
        if owner is None or owner.organization_id != self.actor.caller.organization_id:
            raise NotFound
        await self._revoke(key, reason="revoked_by_admin", owner=owner.id)

    async def list_own(self, *, for_user: UUID | None = None) -> ApiKeyList:
        """The caller's keys (an operator names the user: `for_user`), newest first, without secrets."""
        keys = await self.session.scalars(
            select(ApiKey)
            .where(ApiKey.user_id == (for_user or self.actor.caller.user_id))
            .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        )
        return ApiKeyList(items=[view(key) for key in keys])

    async def active_own(self) -> list[ApiKeyView]:
        """The caller's keys that work now (or until their rotation grace ends), newest first."""
        return [key for key in (await self.list_own()).items if key.status == "active"]

    async def create(
        self, body: ApiKeyCreate, *, for_user: UUID | None = None, replaces: ApiKey | None = None
    ) -> CreatedApiKey:
        """A new key for the caller (or `for_user`): needs MFA and a paid tier; the down-scope cannot exceed the user.

        A session must have proved its second factor: one signed in before MFA was enabled did not, and may
        not create keys (an operator at the CLI has the database itself).
        """
        principal = self.actor.principal
        user, organization = await self._user_and_organization(for_user or self.actor.caller.user_id)
        if not user.mfa_enabled or (principal is not None and not principal.mfa_verified):
            raise Forbidden(
                "Enable MFA and sign in with a code before creating API keys.", code="mfa_required_for_keys"
            )
        await PasswordService(self.actor).prove(user, body.password)
        if not organization.tier.is_paid:
            raise Forbidden(PAID_TIER_REQUIRED, code="paid_tier_required")
        await self._check_pin(user, body.workspace_id)
        new = generate_key()
        key = ApiKey(
            user_id=user.id,
            name=body.name,
            key_hash=new.key_hash,
            prefix=new.prefix,
            expires_at=_future(body.expires_at),
            read_only=body.read_only,
            workspace_id=body.workspace_id,
        )
        self.session.add(key)
        await self.session.flush()
        event = AuditEventType.API_KEY_ROTATED if replaces else AuditEventType.API_KEY_CREATED
        await self.actor.record(
            event,
            as_user=user,
            target=("api_key", key.id),
            data={
                "name": key.name,
                "prefix": key.prefix,
                "read_only": key.read_only,
                "workspace_id": str(key.workspace_id) if key.workspace_id else None,
                "expires_at": key.expires_at.isoformat() if key.expires_at else None,
                "replaces": str(replaces.id) if replaces else None,
            },
        )
        return wire(CreatedApiKey, key, key=new.secret, replaces=replaces.id if replaces else None)

    async def revoke(self, key: ApiKey, reason: str | None = None) -> None:
        """Stop the key now; revoking a revoked key changes nothing. The caller's key, or any for an operator."""
        if self.actor.principal is not None:
            _own(self.actor.principal.user_id, key)
        await self._revoke(key, reason=reason)

    async def revoke_by_id(self, key_id: UUID) -> ApiKeyView:
        """An operator stops any key by its id (a caller only their own, as `revoke`); audited with the reason."""
        key = await self.session.get(ApiKey, key_id)
        if key is None:
            raise NotFound("No API key with this id.")
        await self.revoke(key, reason="revoked_by_operator")
        return view(key)

    async def rotate(self, old: ApiKey, password: str | None = None) -> CreatedApiKey:
        """A successor with the same name, scope and expiry; the old key works for `ROTATION_GRACE` more.

        Like a new key, it needs a recent proof of the password (`password`, or a recent sign-in).
        """
        _own(self.actor.caller.user_id, old)
        now = utcnow()
        if old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
            raise Conflict("A revoked or expired key cannot be rotated; create a new one.", code="api_key_inactive")
        body = ApiKeyCreate(
            name=old.name,
            expires_at=old.expires_at,  # the successor never outlives the key it replaces
            read_only=old.read_only,
            workspace_id=old.workspace_id,
            password=password,
        )
        created = await self.create(body, replaces=old)
        grace_end = now + ROTATION_GRACE
        old.expires_at = min(old.expires_at, grace_end) if old.expires_at else grace_end
        self.actor.forget(key_hashes=[old.key_hash])
        return created

    async def _revoke(self, key: ApiKey, *, reason: str | None, owner: UUID | None = None) -> None:
        if key.revoked_at is not None:
            return
        key.revoked_at = utcnow()
        self.actor.forget(key_hashes=[key.key_hash])
        data = (
            {"prefix": key.prefix} | ({"reason": reason} if reason else {}) | ({"owner": str(owner)} if owner else {})
        )
        await self.actor.record(AuditEventType.API_KEY_REVOKED, target=("api_key", key.id), data=data)

    async def _user_and_organization(self, user_id: UUID) -> tuple[User, Organization]:
        row = (
            await self.session.execute(
                select(User, Organization)
                .join(Organization, Organization.id == User.organization_id)
                .where(User.id == user_id)
            )
        ).first()
        if row is None:
            raise NotFound
        return row[0], row[1]

    async def _check_pin(self, user: User, workspace_id: UUID | None) -> None:
        """A key can be pinned only to a workspace its creator can reach (another tenant's is a 422 on the field)."""
        if workspace_id is None:
            return
        workspace = await self.session.scalar(
            select(Workspace).where(Workspace.id == workspace_id, Workspace.organization_id == user.organization_id)
        )
        if workspace is None:
            raise ValidationFailed(
                "No such workspace in your organization.",
                errors=[
                    FieldError(message="no such workspace in your organization", field="workspace_id", source="body")
                ],
            )
        if user.role is not Role.ADMIN:
            membership = await self.session.scalar(
                select(WorkspaceMembership.id).where(
                    WorkspaceMembership.workspace_id == workspace_id, WorkspaceMembership.user_id == user.id
                )
            )
            if membership is None:
                raise Forbidden("You are not a member of that workspace.", code="workspace_forbidden")


def _own(user_id: UUID, key: ApiKey) -> None:
    """Someone else's key is as good as missing (the guard checked it too; this holds for every caller)."""
    if key.user_id != user_id:
        raise NotFound


def view(key: ApiKey) -> ApiKeyView:
    """The owner's view of a key."""
    return wire(ApiKeyView, key, status=status(key))


def organization_view(key: ApiKey, owner: User) -> OrganizationKeyView:
    """An admin's view of a key of the organization."""
    return OrganizationKeyView(key=view(key), owner=wire(KeyOwner, owner))


def status(key: ApiKey) -> KeyStatus:
    """Revoked wins over expired; anything else is active."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= utcnow():
        return "expired"
    return "active"


def _future(expires_at: dt.datetime | None) -> dt.datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise ValidationFailed(
            "Give the expiry with a time zone, e.g. 2027-01-31T00:00:00Z.",
            errors=[FieldError(message="a timezone is required", field="expires_at", source="body")],
        )
    if expires_at <= utcnow():
        raise ValidationFailed(
            "The expiry must be in the future.",
            errors=[FieldError(message="must be in the future", field="expires_at", source="body")],
        )
    try:
        return expires_at.astimezone(dt.UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 is in year 10000 in UTC
        raise ValidationFailed(
            "The expiry is out of range.",
            errors=[FieldError(message="out of range", field="expires_at", source="body")],
        ) from None
