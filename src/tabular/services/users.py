"""Users: creation with a hashed password, lookup by email, and the organization's users as admins manage them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, Final

import jwt
import msgspec
from advanced_alchemy.exceptions import DuplicateKeyError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tabular.auth.passwords import hash_password
from tabular.db import Organization, User, Workspace, WorkspaceMembership
from tabular.db.base import utcnow
from tabular.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed
from tabular.policies.filters import visible
from tabular.schemas.common import Page
from tabular.schemas.users import CreatedUser, UserView
from tabular.services.audit import AuditEventType, record_by
from tabular.services.common import clean_name, paginate
from tabular.vocabulary import Resource, Role

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.identities import IdentityStore
    from tabular.auth.principal import Principal
    from tabular.schemas.common import Pagination
    from tabular.schemas.users import SetPassword, UserCreate, UserUpdate

SET_PASSWORD_AUDIENCE: Final = "set-password"  # noqa: S105 - a JWT audience, not a secret
SET_PASSWORD_LIFETIME: Final = dt.timedelta(hours=48)
_ISSUER: Final = "tabular"
_ALGORITHM: Final = "HS256"


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively; they are stored lower-cased."""
    return email.strip().lower()


class UserService(SQLAlchemyAsyncRepositoryService[User]):
    """Creates users and looks them up."""

    class Repository(SQLAlchemyAsyncRepository[User]):
        """User rows."""

        model_type = User

    repository_type = Repository

    async def get_by_email(self, email: str) -> User | None:
        """The user with this email, in any organization (emails are globally unique)."""
        return await self.get_one_or_none(email=normalize_email(email))

    async def create_user(
        self, *, organization_id: UUID, email: str, name: str, role: Role, password: str | None
    ) -> User:
        """A new active user; 409 `email_taken` when the email is in use."""
        if await self.get_by_email(email) is not None:
            raise Conflict("A user with this email already exists.", code="email_taken")
        password_hash = await hash_password(password) if password is not None else None
        return await self.create(
            User(
                organization_id=organization_id,
                email=normalize_email(email),
                name=name.strip(),
                role=role,
                password_hash=password_hash,
            )
        )

    async def set_password(self, user: User, password: str) -> None:
        """Replace the password and end every session the user had."""
        user.password_hash = await hash_password(password)
        user.token_version += 1
        await self.repository.session.flush()


class SetPasswordTokens:
    """One-time tokens for an invited user to choose a password: signed with the app secret, never stored.

    A token carries the user's `token_version`; setting the password bumps it, so a token works once (and a
    role change or deactivation before then voids it too). Its own audience keeps it from passing for a
    session token and a session token from passing for it.
    """

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def issue(self, user: User) -> tuple[str, dt.datetime]:
        """A token for the user as they are now, and when it expires."""
        now = utcnow().replace(microsecond=0)
        expires_at = now + SET_PASSWORD_LIFETIME
        payload = {
            "iss": _ISSUER,
            "aud": SET_PASSWORD_AUDIENCE,
            "sub": str(user.id),
            "ver": user.token_version,
            "iat": now,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM), expires_at

    def read(self, token: str) -> tuple[UUID, int]:
        """The user id and version a valid token names; 401 `token_expired` or `invalid_token` otherwise."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=SET_PASSWORD_AUDIENCE,
                issuer=_ISSUER,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "ver"]},
            )
            claims = msgspec.convert(payload, _Claims)  # strict: no "1" or true for a version
        except jwt.ExpiredSignatureError:
            raise Unauthorized(
                "This set-password link has expired; ask an admin for a new one.", code="token_expired"
            ) from None
        except (jwt.InvalidTokenError, msgspec.ValidationError):
            raise _invalid_token() from None
        return claims.sub, claims.ver


class _Claims(msgspec.Struct, frozen=True):
    sub: uuid.UUID
    ver: int


class UserManager:
    """`/api/users`: every user is loaded through the caller's organization, whatever the guard said."""

    def __init__(self, session: AsyncSession, identities: IdentityStore, tokens: SetPasswordTokens) -> None:
        self.session = session
        self.identities = identities
        self.tokens = tokens

    async def list_users(
        self, principal: Principal, pagination: Pagination, *, role: Role | None, active: bool | None
    ) -> Page[UserView]:
        """The organization's users, by email, optionally only those of one role or activation state."""
        query = select(User).where(visible(principal, Resource.USER))
        if role is not None:
            query = query.where(User.role == role)
        if active is not None:
            query = query.where(User.is_active.is_(active))
        rows, total = await paginate(self.session, query.order_by(User.email), pagination)
        users = [row[0] for row in rows]
        memberships = await self._workspace_ids(user.id for user in users)
        items = [_view(user, memberships.get(user.id, [])) for user in users]
        return Page(items=items, total=total, limit=pagination.limit, offset=pagination.offset)

    async def get(self, user: User) -> UserView:
        """The user the guard authorized, with their workspaces."""
        return _view(user, (await self._workspace_ids([user.id])).get(user.id, []))

    async def create(self, principal: Principal, body: UserCreate, client_ip: str) -> CreatedUser:
        """A new user of the organization, in the given workspaces; 409 `email_taken`, 404 for a foreign workspace.

        With a password the user can sign in at once; without one the answer carries a one-time token.
        """
        email = normalize_email(body.email)
        if body.password is not None:
            _check_password(body.password, email)
        workspace_ids = await self._own_workspaces(principal, body.workspace_ids)
        users = UserService(self.session)
        try:
            async with self.session.begin_nested():
                user = await users.create_user(
                    organization_id=principal.organization_id,
                    email=email,
                    name=clean_name(body.name),
                    role=body.role,
                    password=body.password,
                )
        except (IntegrityError, DuplicateKeyError):  # created by a concurrent request since the check
            raise Conflict("A user with this email already exists.", code="email_taken") from None
        self.session.add_all(WorkspaceMembership(workspace_id=w, user_id=user.id) for w in workspace_ids)
        await self.session.flush()
        token, expires_at = self.tokens.issue(user) if body.password is None else (None, None)
        data = {
            "email": user.email,
            "role": user.role.value,
            "workspace_ids": [str(w) for w in workspace_ids],
            "password_set": body.password is not None,
        }
        await self._audit(principal, AuditEventType.USER_CREATED, user, client_ip, data)
        view = _view(user, workspace_ids)
        return CreatedUser(**msgspec.structs.asdict(view), set_password_token=token, set_password_expires_at=expires_at)

    async def update(self, principal: Principal, user: User, body: UserUpdate, client_ip: str) -> UserView:
        """Rename, change the role, (de)activate; 409 `last_admin` rather than leave no active admin.

        A role or activation change ends every session of the user and reaches their keys on the next
        request: the token version is bumped and this process's cached identity dropped on commit.
        """
        role = user.role if body.role is msgspec.UNSET else body.role
        active = user.is_active if body.active is msgspec.UNSET else body.active
        if user.role is Role.ADMIN and user.is_active and (role is not Role.ADMIN or not active):
            await self._keep_an_admin(user)
        if body.name is not msgspec.UNSET and (name := clean_name(body.name)) != user.name:
            user.name = name
            self.identities.forget_on_commit(self.session, user_ids=[user.id])  # who-am-I shows the name
        changes: list[tuple[AuditEventType, dict[str, Any]]] = []
        if role is not user.role:
            changes.append((AuditEventType.USER_ROLE_CHANGED, {"from": user.role.value, "to": role.value}))
            user.role = role
        if active is not user.is_active:
            changes.append((AuditEventType.USER_REACTIVATED if active else AuditEventType.USER_DEACTIVATED, {}))
            user.is_active = active
        if changes:
            user.token_version += 1
            self.identities.forget_on_commit(self.session, user_ids=[user.id])
        await self.session.flush()
        for event_type, data in changes:
            await self._audit(principal, event_type, user, client_ip, data)
        return await self.get(user)

    async def set_password(self, body: SetPassword, client_ip: str) -> None:
        """Choose a password with the one-time token from the user's creation; the token is spent by it.

        The user's row is locked while checking the token's version, so two concurrent uses cannot both pass.
        """
        user_id, version = self.tokens.read(body.token)
        user = await self.session.scalar(select(User).where(User.id == user_id).with_for_update())
        if user is None or not user.is_active or user.token_version != version:
            raise _invalid_token()
        _check_password(body.password, user.email)
        await UserService(self.session).set_password(user, body.password)
        self.identities.forget_on_commit(self.session, user_ids=[user.id])
        await record_by(
            self.session,
            AuditEventType.PASSWORD_CHANGED,
            user,
            client_ip,
            target_type="user",
            target_id=user.id,
            data={"via": "set_password_token"},
        )

    async def _keep_an_admin(self, user: User) -> None:
        """409 `last_admin` unless another active admin remains.

        The organization's row is locked first, so two admins demoting each other at once cannot both pass.
        """
        await self.session.execute(
            select(Organization.id).where(Organization.id == user.organization_id).with_for_update()
        )
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

    async def _own_workspaces(self, principal: Principal, workspace_ids: list[UUID]) -> list[UUID]:
        """The ids, without repeats, if each is a workspace of the organization; 404 otherwise."""
        wanted = list(dict.fromkeys(workspace_ids))
        if not wanted:
            return []
        found = set(
            await self.session.scalars(
                select(Workspace.id).where(
                    Workspace.id.in_(wanted), Workspace.organization_id == principal.organization_id
                )
            )
        )
        if len(found) != len(wanted):
            raise NotFound("No such workspace in your organization.")
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
        self, principal: Principal, event_type: AuditEventType, user: User, client_ip: str, data: dict[str, Any]
    ) -> None:
        await record_by(
            self.session, event_type, principal, client_ip, target_type="user", target_id=user.id, data=data
        )


def _check_password(password: str, email: str) -> None:
    """422 `weak_password` for a password the sign-in rules would refuse."""
    from tabular.services.auth import password_problem  # noqa: PLC0415 - services.auth imports this module

    if problem := password_problem(password, email):
        raise ValidationFailed(
            problem, code="weak_password", errors=[FieldError(message=problem, field="password", source="body")]
        )


def _invalid_token() -> Unauthorized:
    return Unauthorized("This set-password link is invalid or was already used.", code="invalid_token")


def _view(user: User, workspace_ids: list[UUID]) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        active=user.is_active,
        password_set=user.password_hash is not None,
        mfa_enabled=user.mfa_enabled,
        workspace_ids=workspace_ids,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )
