"""`/api/users`: the organization's users (admins only), and the public set-password step of an invitation."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tabular.db import User
from tabular.policies.guard import authorized
from tabular.policies.requirements import public, requires
from tabular.routes.dependencies import service
from tabular.schemas.common import Page, Pagination
from tabular.schemas.users import CreatedUser, SetPassword, UserCreate, UserUpdate, UserView
from tabular.services.users import UserService
from tabular.settings import SMALL_BODY
from tabular.vocabulary import Action, Resource, Role

EMAIL_TAKEN = "A user of your organization has this email (`email_taken`)"
BAD_LINK = "The link is invalid or used (`invalid_token`), or expired (`token_expired`)"
LAST_ADMIN = "It would leave the organization without an active admin (`last_admin`)"


class UserController(Controller):
    """Admins create users, change roles and (de)activate them; changes reach the user's next request."""

    path = "/api/users"
    tags = ["users"]  # noqa: RUF012
    dependencies = {"users": service(UserService), "user": authorized(User)}  # noqa: RUF012

    @get("", **requires(Resource.USER, Action.LIST), summary="List the organization's users")
    async def list_users(
        self,
        pagination: NamedDependency[Pagination],
        users: NamedDependency[UserService],
        role: Annotated[Role | None, QueryParameter(description="Only users with this role")] = None,
        active: Annotated[bool | None, QueryParameter(description="Only active (true) or deactivated (false)")] = None,
    ) -> Page[UserView]:
        """By email; `role` and `active` narrow the list."""
        return await users.listing(pagination, role=role, active=active)

    @post(
        "",
        **requires(Resource.USER, Action.CREATE, problems={409: EMAIL_TAKEN}),
        status_code=HTTP_201_CREATED,
        summary="Create a user",
    )
    async def create_user(self, data: JSONBody[UserCreate], users: NamedDependency[UserService]) -> CreatedUser:
        """Without a password, the answer carries a one-time `set_password_token` for the user."""
        return await users.create(data)

    @post(
        "/set-password",
        **public(problems={401: BAD_LINK}),
        request_max_body_size=SMALL_BODY,
        status_code=HTTP_204_NO_CONTENT,
        summary="Set a password with a one-time token",
    )
    async def set_password(self, data: JSONBody[SetPassword], users: NamedDependency[UserService]) -> None:
        """The token from the user's creation works once; afterwards the user signs in with the password."""
        await users.set_password(data)

    @get("/{user_id:uuid}", **requires(Resource.USER, Action.READ, by="user_id"), summary="Get a user")
    async def get_user(self, user: NamedDependency[User], users: NamedDependency[UserService]) -> UserView:
        """With their workspaces."""
        return await users.get(user)

    @patch(
        "/{user_id:uuid}",
        **requires(Resource.USER, Action.UPDATE, by="user_id", problems={409: LAST_ADMIN}),
        summary="Rename, change the role, deactivate or reactivate a user",
    )
    async def update_user(
        self, user: NamedDependency[User], data: JSONBody[UserUpdate], users: NamedDependency[UserService]
    ) -> UserView:
        """A role change or (de)activation ends the user's sessions; 409 `last_admin` keeps one active admin."""
        return await users.update(user, data)
