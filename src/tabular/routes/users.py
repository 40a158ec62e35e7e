"""`/api/users`: the organization's users (admins only), and the public set-password step of an invitation."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from tabular.auth.engine import AuthEngine
from tabular.auth.principal import Principal
from tabular.db import User
from tabular.policies.guard import authorized
from tabular.policies.requirements import public, requires
from tabular.schemas.common import Page, Pagination
from tabular.schemas.users import CreatedUser, SetPassword, UserCreate, UserUpdate, UserView
from tabular.services.users import SetPasswordTokens, UserManager
from tabular.settings import Settings
from tabular.vocabulary import Action, Resource, Role


def provide_user_manager(
    db_session: NamedDependency[AsyncSession],
    auth_engine: NamedDependency[AuthEngine],
    settings: NamedDependency[Settings],
) -> UserManager:
    """One service per request, on the request's transaction."""
    return UserManager(db_session, auth_engine.identities, SetPasswordTokens(settings.secret_key))


class UserController(Controller):
    """Admins create users, change roles and (de)activate them; changes reach the user's next request."""

    path = "/api/users"
    tags = ["users"]  # noqa: RUF012
    dependencies = {"user_manager": Provide(provide_user_manager, sync_to_thread=False), "user": authorized(User)}  # noqa: RUF012

    @get("", **requires(Resource.USER, Action.LIST), summary="List the organization's users")
    async def list_users(
        self,
        principal: NamedDependency[Principal],
        pagination: NamedDependency[Pagination],
        user_manager: NamedDependency[UserManager],
        role: Annotated[Role | None, QueryParameter(description="Only users with this role")] = None,
        active: Annotated[bool | None, QueryParameter(description="Only active (true) or deactivated (false)")] = None,
    ) -> Page[UserView]:
        """By email; `role` and `active` narrow the list."""
        return await user_manager.list_users(principal, pagination, role=role, active=active)

    @post("", **requires(Resource.USER, Action.CREATE), status_code=HTTP_201_CREATED, summary="Create a user")
    async def create_user(
        self,
        data: JSONBody[UserCreate],
        principal: NamedDependency[Principal],
        client_ip: NamedDependency[str],
        user_manager: NamedDependency[UserManager],
    ) -> CreatedUser:
        """Without a password, the answer carries a one-time `set_password_token` for the user."""
        return await user_manager.create(principal, data, client_ip)

    @post("/set-password", **public(), status_code=HTTP_204_NO_CONTENT, summary="Set a password with a one-time token")
    async def set_password(
        self, data: JSONBody[SetPassword], client_ip: NamedDependency[str], user_manager: NamedDependency[UserManager]
    ) -> None:
        """The token from the user's creation works once; afterwards the user signs in with the password."""
        await user_manager.set_password(data, client_ip)

    @get("/{user_id:uuid}", **requires(Resource.USER, Action.READ, by="user_id"), summary="Get a user")
    async def get_user(self, user: NamedDependency[User], user_manager: NamedDependency[UserManager]) -> UserView:
        """With their workspaces."""
        return await user_manager.get(user)

    @patch(
        "/{user_id:uuid}",
        **requires(Resource.USER, Action.UPDATE, by="user_id"),
        summary="Rename, change the role, deactivate or reactivate a user",
    )
    async def update_user(
        self,
        user: NamedDependency[User],
        data: JSONBody[UserUpdate],
        principal: NamedDependency[Principal],
        client_ip: NamedDependency[str],
        user_manager: NamedDependency[UserManager],
    ) -> UserView:
        """A role change or (de)activation ends the user's sessions; 409 `last_admin` keeps one active admin."""
        return await user_manager.update(principal, user, data, client_ip)
