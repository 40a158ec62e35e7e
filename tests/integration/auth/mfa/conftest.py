"""The MFA tests' accounts: a fresh member (enrolled through the API when a test asks) and the demo admin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.clients import user
from tests.support.mfa import Account, Authenticator, enrol, new_member, signed_in

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client


@pytest.fixture
async def account(database_url: str, demo: DemoData) -> Account:
    """A fresh member of the demo organization, without MFA."""
    return await new_member(database_url, demo)


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
