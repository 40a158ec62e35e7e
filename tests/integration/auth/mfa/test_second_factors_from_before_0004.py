"""Second factors stored before migration 0004 (a TOTP secret in the clear, bare SHA-256 recovery codes) keep
working, and are sealed by their first use or by `tabular serve` starting: an upgrade locks nobody out."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from uuid import UUID

import pyotp
import pytest
from sqlalchemy import select

from tabular.db import Organization, RecoveryCode, User
from tabular.db.base import utcnow
from tabular.services.actor import Actor
from tabular.services.mfa import MfaService
from tabular.vocabulary import Role
from tests.support.db import committed_session
from tests.support.factories import new_user
from tests.support.mfa import PASSWORD, Account, Authenticator, assert_refused_sign_in, sign_in
from tests.support.settings import TEST_AT_REST

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

OLD_CODES = ["k7mp-2xqa-hv9c", "3dfe-w8ry-ab4n", "pq2z-mm7t-cx5u"]
"""Recovery codes in the shape 0002 issued: three groups of four."""


@pytest.fixture
async def old_account(database_url: str, demo: DemoData) -> Account:
    """A member with MFA on, stored as 0002 stored it."""
    secret = pyotp.random_base32(length=32)
    async with committed_session(database_url) as session:
        organization = await session.get_one(Organization, UUID(demo.organization.id))
        created = await new_user(
            session, organization, email="old.member@demo.tabular.test", role=Role.MEMBER, password=PASSWORD
        )
        created.totp_secret, created.mfa_enabled_at = secret, utcnow()
        old_hashes = (hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in OLD_CODES)
        session.add_all(RecoveryCode(user_id=created.id, code_hash=digest) for digest in old_hashes)
    return Account(email=created.email, user_id=created.id, app=Authenticator(secret), recovery_codes=OLD_CODES)


async def stored(database_url: str, account: Account) -> tuple[str | None, list[str]]:
    async with committed_session(database_url) as session:
        secret = (await session.get_one(User, account.user_id)).totp_secret
        codes = await session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == account.user_id))
        return secret, sorted(codes)


def assert_sealed(secret: str | None, codes: list[str], account: Account) -> None:
    assert secret is not None
    assert secret.startswith("v1:")
    assert account.user_id is not None
    assert TEST_AT_REST.open(secret, account.user_id) == account.authenticator.secret
    assert all(code.startswith("v0:") for code in codes), codes


async def test_a_secret_stored_in_the_clear_signs_in_and_is_sealed_by_it(
    client: Client, database_url: str, old_account: Account
) -> None:
    first = await sign_in(client, old_account.email, PASSWORD, old_account.authenticator.code())
    assert first.status_code == 200, first.text
    assert_sealed(*await stored(database_url, old_account), old_account)
    again = await sign_in(client, old_account.email, PASSWORD, old_account.authenticator.code())
    assert again.status_code == 200, again.text


async def test_a_recovery_code_hashed_before_0004_still_signs_in_once(
    client: Client, database_url: str, old_account: Account
) -> None:
    first, second = OLD_CODES[0], OLD_CODES[1].upper()
    assert (await sign_in(client, old_account.email, PASSWORD, first)).status_code == 200
    assert_sealed(*await stored(database_url, old_account), old_account)
    assert_refused_sign_in(await sign_in(client, old_account.email, PASSWORD, first), "invalid_otp")
    assert (await sign_in(client, old_account.email, PASSWORD, second)).status_code == 200


async def test_serving_seals_every_second_factor_stored_before_0004(
    client: Client, database_url: str, old_account: Account
) -> None:
    async with committed_session(database_url) as session:
        assert await MfaService(Actor(session, at_rest=TEST_AT_REST)).seal_legacy() == 1 + len(OLD_CODES)
    assert_sealed(*await stored(database_url, old_account), old_account)
    async with committed_session(database_url) as session:
        assert await MfaService(Actor(session, at_rest=TEST_AT_REST)).seal_legacy() == 0, "once is enough"

    by_code = await sign_in(client, old_account.email, PASSWORD, old_account.authenticator.code())
    assert by_code.status_code == 200, by_code.text
    by_recovery_code = await sign_in(client, old_account.email, PASSWORD, OLD_CODES[2])
    assert by_recovery_code.status_code == 200, by_recovery_code.text
