"""Users: creation with a hashed password, lookup by email."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService

from tabular.auth.passwords import hash_password
from tabular.db import User
from tabular.errors import Conflict

if TYPE_CHECKING:
    from uuid import UUID

    from tabular.policies.vocabulary import Role


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
