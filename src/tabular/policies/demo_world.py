"""The demo world of policy test files: an organization of the database (`tabular demo`'s) as it is, only read.

`world: demo` runs a file's cases against that organization now. `as:` names one of its users — by email,
by the part before the `@` (`member1`), or by role (the first user of it, by email: `member`) — then how
they call, as in a declared world (`session`, `no_mfa`, `key`, `read_only`, `pinned:WORKSPACE`); or one
of its API keys by name, taken as it is (its down-scope, expiry and revocation).

A request's `{name}`s are its workspaces, surveys, dashboards and reports by name in snake case
(`{customer_satisfaction_2026}`), its users by the part of their email before the `@` (`{member1}`), its
unrevoked API keys as OWNER_KEYNAME_key (`{member1_demo_key}`), and `{missing}`, an id nothing has.
A subject becomes its caller as the check API makes it (`policies/subject.py`) and objects are found by
the database's own locator (`TenantLookup`): the answer is the one the request would get.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from tabular.db import ApiKey, Dashboard, Organization, Report, Survey, User, Workspace
from tabular.policies.lookup import TenantLookup
from tabular.policies.placement import PLACEMENTS
from tabular.policies.subject import UnknownSubjectError, Who, resolve
from tabular.policies.testfile import MISSING, PolicyTestError, credential, request_url
from tabular.vocabulary import Resource

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import AuthFailure, Principal
    from tabular.vocabulary import Role

_NAMED: Final = (
    (Resource.WORKSPACE, Workspace.name),
    (Resource.SURVEY, Survey.title),
    (Resource.DASHBOARD, Dashboard.name),
    (Resource.REPORT, Report.name),
)
"""What a request names by its name (or title), in snake case."""


class MissingWorldError(PolicyTestError):
    """The organization the world is made of is not in the database."""


@dataclass(frozen=True, slots=True)
class DatabaseWorld:
    """An organization's users and named objects; `names` maps each name to what it is (None: several are)."""

    session: AsyncSession
    organization_id: UUID
    names: dict[str, tuple[Resource, UUID] | None]
    users: list[tuple[str, Role]]
    """Email and role of each user, by email."""

    @classmethod
    async def load(cls, session: AsyncSession, organization: str) -> DatabaseWorld:
        """The world of the organization called `organization`; `MissingWorldError` when there is none."""
        organization_id = await session.scalar(select(Organization.id).where(Organization.name == organization))
        if organization_id is None:
            raise MissingWorldError(f"no organization {organization!r} in the database")
        named: list[tuple[str, Resource, UUID]] = []
        for resource, label in _NAMED:
            placement = PLACEMENTS[resource]
            query = select(placement.model.id, label)
            if placement.tenant is not None:
                query = query.join(*placement.tenant)
            rows = await session.execute(query.where(placement.organization == organization_id))
            named += [(snake(name), resource, id_) for id_, name in rows]
        in_organization = User.organization_id == organization_id
        people = select(User.id, User.email, User.role).where(in_organization).order_by(User.email)
        users = (await session.execute(people)).all()
        named += [(_local(email), Resource.USER, id_) for id_, email, _ in users]
        keys = await session.execute(
            select(ApiKey.id, ApiKey.name, User.email)
            .join(User, User.id == ApiKey.user_id)
            .where(in_organization, ApiKey.revoked_at.is_(None))
        )
        named += [(f"{_local(email)}_{snake(name)}_key", Resource.API_KEY, id_) for id_, name, email in keys]
        names: dict[str, tuple[Resource, UUID] | None] = {"missing": (Resource.WORKSPACE, MISSING)}
        for name, resource, id_ in named:
            names[name] = None if name in names else (resource, id_)
        return cls(session, organization_id, names, [(email, role) for _, email, role in users])

    def url(self, request: str) -> tuple[str, str]:
        """METHOD and URL of a case's `request`, its `{name}`s replaced by ids."""
        return request_url(request, lambda name: self._find(name, f"request {request!r}")[1])

    async def caller(self, words: str) -> Principal | AuthFailure:
        """The caller an `as:` names: a user and how they call, or a key as it is."""
        name, *how = words.split()
        key = self.names.get(name)
        if key is not None and key[0] is Resource.API_KEY:
            if how:
                raise PolicyTestError(f"as: {words!r}: a key is taken as it is, with nothing after its name")
            who, shape = Who(api_key_id=key[1]), None
        else:
            who, shape = Who(email=self._email(name, words)), credential(words, how, self._workspace)
        try:
            subject = await resolve(self.session, who, organization_id=self.organization_id, shape=shape)
        except UnknownSubjectError as error:
            raise PolicyTestError(f"as: {words!r}: {error} in the demo world") from None
        return subject.caller

    def locator(self, organization_id: UUID) -> TenantLookup:
        """The database's locator, inside `organization_id` only, as the guard's."""
        return TenantLookup(self.session, organization_id)

    def _email(self, name: str, words: str) -> str:
        if "@" in name:
            return name
        emails = [email for email, _ in self.users if _local(email) == name]
        if len(emails) > 1:
            raise PolicyTestError(f"as: {words!r}: several users are called {name!r}: name one by email")
        emails = emails or [email for email, role in self.users if role.value == name]
        if not emails:
            raise PolicyTestError(
                f"as: {words!r}: {name!r} is neither a user (an email, or the part before its @), a role one of "
                "them has, nor an API key of the demo world"
            )
        return emails[0]

    def _workspace(self, name: str) -> UUID:
        resource, id_ = self._find(name, f"pinned:{name}")
        if resource is not Resource.WORKSPACE:
            raise PolicyTestError(f"pinned:{name}: {name!r} is not a workspace of the demo world")
        return id_

    def _find(self, name: str, where: str) -> tuple[Resource, UUID]:
        if name not in self.names:
            raise PolicyTestError(f"{where}: nothing in the demo world is called {name!r}")
        found = self.names[name]
        if found is None:
            raise PolicyTestError(f"{where}: several things in the demo world are called {name!r}")
        return found


def snake(text: str) -> str:
    """A name as a request's `{name}` says it: 'Customer satisfaction 2026' is customer_satisfaction_2026."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _local(email: str) -> str:
    return email.partition("@")[0]
