"""The MFA tests' accounts: a fresh member (enrolled through the API when a test asks) and the demo admin."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import pytest

from tabular.db import Organization
from tabular.vocabulary import Role
from tests.support.clients import user
from tests.support.db import committed_session
from tests.support.factories import new_user
from tests.support.mfa import PASSWORD, Account, Authenticator, enrol, signed_in

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client


@pytest.fixture
async def account(database_url: str, demo: DemoData) -> Account:
    """A fresh member of the demo organization, without MFA."""
    async with committed_session(database_url) as session:
        organization = await session.get_one(Organization, UUID(demo.organization.id))
        created = await new_user(
            session,
            organization,
            email="new.member@demo.tabular.test",
            name="New Member",
            role=Role.MEMBER,
            password=PASSWORD,
        )
    return Account(email=created.email, user_id=created.id)


@pytest.fixture
async def token(client: Client, account: Account) -> str:
    """The account's session, signed in with the password (before any enrolment)."""
    return await signed_in(client, account.email, account.password)


@pytest.fixture
async def enrolled(client: Client, account: Account, token: str) -> Account:
    """The account with MFA confirmed through the API (one code used), its recovery codes and new session."""
    return await enrol(client, account, token)


@pytest.fixture
def admin(demo: DemoData) -> Account:
    """The demo admin: MFA on from the seed, no recovery codes."""
    who = user(demo, "admin")
    assert who.totp_secret is not None
    return Account(email=who.email, password=who.password, app=Authenticator(who.totp_secret))
