"""Users: the organization's accounts as admins (and operators, at the CLI) create and change them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID  # noqa: TC003 - msgspec reads SetPasswordClaims' annotations at runtime

import msgspec
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tabular.auth.tokens import Audience, TokenError
from tabular.db import Organization, User, Workspace, WorkspaceMembership
from tabular.db.audit import AuditEventType
from tabular.db.base import hold
from tabular.errors import Conflict, FieldError, Unauthorized, ValidationFailed, no_such_workspace
from tabular.policies.filters import visible
from tabular.schemas.common import wire
from tabular.schemas.rules import normalize_email, password_problem
from tabular.schemas.users import CreatedUser, UserView
from tabular.services.actor import Service
from tabular.services.common import page
from tabular.services.passwords import PasswordService
from tabular.vocabulary import Resource, Role

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tabular.schemas.common import Page, Pagination
    from tabular.schemas.users import SetPassword, UserCreate, UserUpdate

SET_PASSWORD_LIFETIME: Final = dt.timedelta(hours=48)


class SetPasswordClaims(msgspec.Struct, frozen=True):
    """A set-password link names the user and the `token_version` it was made for: it works once."""

    user_id: UUID = msgspec.field(name="sub")
    version: int = msgspec.field(name="ver")


class UserService(Service):
    """Users of one organization: the caller's, or the one an operator names."""

    async def listing(self, pagination: Pagination, *, role: Role | None, active: bool | None) -> Page[UserView]:
        """The organization's users, by email, optionally only those of one role or activation state."""
        query = select(User).where(visible(self.actor.caller, Resource.USER))
        if role is not None:
            query = query.where(User.role == role)
        if active is not None:
            query = query.where(User.is_active.is_(active))
        users = await page(self.session, query.order_by(User.email), pagination, lambda row: row[0])
        memberships = await self._workspace_ids(user.id for user in users.items)
        views = [_view(user, memberships.get(user.id, [])) for user in users.items]
        return users.with_items(views)

    async def get(self, user: User) -> UserView:
        """The user the guard authorized, with their workspaces."""
        return _view(user, (await self._workspace_ids([user.id])).get(user.id, []))

    async def by_email(self, email: str, organization_id: UUID | None = None) -> User | None:
        """The user with this email in the organization (the caller's, or the one an operator names).

        An email is unique within an organization only: another organization may have its own account for it.
        """
        organization_id = organization_id or self.actor.caller.organization_id
        query = select(User).where(User.organization_id == organization_id, User.email == normalize_email(email))
        user: User | None = await self.session.scalar(query)
        return user

    async def everywhere(self, email: str) -> list[User]:
        """Every organization's user with this email, oldest first: for an operator, who sees them all."""
        query = select(User).where(User.email == normalize_email(email)).order_by(User.created_at, User.id)
        return list(await self.session.scalars(query))

    async def create(self, body: UserCreate, organization_id: UUID | None = None) -> CreatedUser:
        """A new user of the caller's organization (an operator names one), in the given workspaces.

        409 `email_taken` (in this organization: another's accounts are none of its business), 422
        `weak_password`, 422 for a workspace of another organization. With a password the user can sign in at
        once; without one the answer carries a one-time token.
        """
        organization_id = organization_id or self.actor.caller.organization_id
        email = normalize_email(body.email)
        if body.password is not None:
            _check_password(body.password, email)
        workspace_ids = await self._own_workspaces(organization_id, body.workspace_ids)
        if await self.by_email(email, organization_id) is not None:
            raise _email_taken()
        password = body.password
        password_hash = None if password is None else await PasswordService(self.actor).hash(email, password)
        user = User(
            organization_id=organization_id, email=email, name=body.name, role=body.role, password_hash=password_hash
        )
        try:
            async with self.session.begin_nested():
                self.session.add(user)
        except IntegrityError:  # created by a concurrent request since the check
            raise _email_taken() from None
        self.session.add_all(WorkspaceMembership(workspace_id=w, user_id=user.id) for w in workspace_ids)
        await self.session.flush()
        token, expires_at = self._set_password_link(user) if body.password is None else (None, None)
        data = {
            "email": user.email,
            "role": user.role.value,
            "workspace_ids": [str(w) for w in workspace_ids],
            "password_set": body.password is not None,
        }
        await self._audit(AuditEventType.USER_CREATED, user, data, organization_id)
        return wire(
            CreatedUser,
            user,
            **_view_fields(user, workspace_ids),
            set_password_token=token,
            set_password_expires_at=expires_at,
        )

    async def update(self, user: User, body: UserUpdate) -> UserView:
        """Rename, change the role, (de)activate; 409 `last_admin` rather than leave no active admin.

        A role or activation change ends every session of the user and reaches their keys on the next
        request: the token version is bumped and this process's cached identity dropped on commit.
        """
        role = user.role if body.role is msgspec.UNSET else body.role
        active = user.is_active if body.active is msgspec.UNSET else body.active
        if user.role is Role.ADMIN and user.is_active and (role is not Role.ADMIN or not active):
            await self._keep_an_admin(user)
        if body.name is not msgspec.UNSET and body.name != user.name:
            user.name = body.name
            self.actor.forget(user_ids=[user.id])  # who-am-I shows the name
        changes: list[tuple[AuditEventType, dict[str, Any]]] = []
        if role is not user.role:
            changes.append((AuditEventType.USER_ROLE_CHANGED, {"from": user.role.value, "to": role.value}))
            user.role = role
        if active is not user.is_active:
            changes.append((AuditEventType.USER_REACTIVATED if active else AuditEventType.USER_DEACTIVATED, {}))
            user.is_active = active
        if changes:
            user.token_version += 1
            self.actor.forget(user_ids=[user.id])
        await self.session.flush()
        for event_type, data in changes:
            await self._audit(event_type, user, data)
        return await self.get(user)

    async def set_password(self, body: SetPassword) -> None:
        """Choose a password with the one-time token from the user's creation; the token is spent by it.

        The user's row is held while checking the token's version, so two concurrent uses cannot both pass.
        """
        try:
            claims = self.actor.engine.codec.read(body.token, Audience.SET_PASSWORD, SetPasswordClaims)
        except TokenError as error:
            if error.expired:
                raise Unauthorized(
                    "This set-password link has expired; ask an admin for a new one.", code="token_expired"
                ) from None
            raise _invalid_token() from None
        held = await hold(self.session, User, claims.user_id)
        user = await self.session.get(User, claims.user_id, populate_existing=True) if held else None
        if user is None or not user.is_active or user.token_version != claims.version:
            raise _invalid_token()
        _check_password(body.password, user.email)
        user.password_hash = await PasswordService(self.actor).hash(user.email, body.password)
        user.token_version += 1  # spends the link, and ends any session the user had
        self.actor.forget(user_ids=[user.id])
        await self.actor.record(
            AuditEventType.PASSWORD_CHANGED, as_user=user, target=("user", user.id), data={"via": "set_password_token"}
        )

    def _set_password_link(self, user: User) -> tuple[str, dt.datetime]:
        claims = SetPasswordClaims(user_id=user.id, version=user.token_version)
        return self.actor.engine.codec.sign(Audience.SET_PASSWORD, claims, SET_PASSWORD_LIFETIME)

    async def _keep_an_admin(self, user: User) -> None:
        """409 `last_admin` unless another active admin remains.

        The organization's row is held first, so two admins demoting each other at once cannot both pass.
        """
        await hold(self.session, Organization, user.organization_id)
        others = await self.session.scalar(
            select(func.count(User.id)).where(
                User.organization_id == user.organization_id,
                User.role == Role.ADMIN,
                User.is_active.is_(True),
                User.id != user.id,
            )
        )
        if not others:
            raise Conflict(
                "This is the organization's last active admin; make another user admin first.", code="last_admin"
            )

    async def _own_workspaces(self, organization_id: UUID, workspace_ids: list[UUID]) -> list[UUID]:
        """The ids, without repeats, if each is a workspace of the organization; 422 naming the first that is not.

        Like a dashboard's `survey_ids`: an id in a body is a field that breaks a rule, not a path that names
        nothing (another organization's workspace answers as one that does not exist).
        """
        wanted = list(dict.fromkeys(workspace_ids))
        if not wanted:
            return []
        found = set(
            await self.session.scalars(
                select(Workspace.id).where(Workspace.id.in_(wanted), Workspace.organization_id == organization_id)
            )
        )
        for index, workspace_id in enumerate(workspace_ids):
            if workspace_id not in found:
                raise no_such_workspace(f"workspace_ids[{index}]")
        return wanted

    async def _workspace_ids(self, user_ids: Iterable[UUID]) -> dict[UUID, list[UUID]]:
        """Each user's workspaces, in one query."""
        ids = list(user_ids)
        result: dict[UUID, list[UUID]] = {}
        if not ids:
            return result
        rows = await self.session.execute(
            select(WorkspaceMembership.user_id, WorkspaceMembership.workspace_id)
            .where(WorkspaceMembership.user_id.in_(ids))
            .order_by(WorkspaceMembership.workspace_id)
        )
        for user_id, workspace_id in rows:
            result.setdefault(user_id, []).append(workspace_id)
        return result

    async def _audit(
        self, event: AuditEventType, user: User, data: dict[str, Any], organization_id: UUID | None = None
    ) -> None:
        await self.actor.record(event, organization_id=organization_id, target=("user", user.id), data=data)


def _check_password(password: str, email: str) -> None:
    """422 `weak_password` for a password the sign-in rules would refuse."""
    if problem := password_problem(password, email):
        raise ValidationFailed(
            problem, code="weak_password", errors=[FieldError(message=problem, field="password", source="body")]
        )


def _email_taken() -> Conflict:
    return Conflict("The organization already has a user with this email.", code="email_taken")


def _invalid_token() -> Unauthorized:
    return Unauthorized("This set-password link is invalid or was already used.", code="invalid_token")


def _view_fields(user: User, workspace_ids: list[UUID]) -> dict[str, Any]:
    """What a user view holds that the row keeps under another name, or not at all."""
    return {"active": user.is_active, "password_set": user.password_hash is not None, "workspace_ids": workspace_ids}


def _view(user: User, workspace_ids: list[UUID]) -> UserView:
    return wire(UserView, user, **_view_fields(user, workspace_ids))
