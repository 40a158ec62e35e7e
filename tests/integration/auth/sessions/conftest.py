"""The session tests' account: a member without MFA, so a password alone signs in, any number of times."""

from __future__ import annotations

import pytest

from tests.support.sessions import Account, new_account


@pytest.fixture
async def account(database_url: str) -> Account:
    return await new_account(database_url, "pat.sessions@example.com")
