"""Attack: read the database (a backup, a replica, an injected SELECT) and take the second factor from it.

TOTP secrets are sealed (AES-GCM) under a key derived from the server secret, recovery codes are stored as
HMACs under another derived key: a copy of the database without the server secret gives no TOTP secret and
no way to test a guessed recovery code offline, and each code carries at least 64 bits to guess online.
The expected derivation is written out here, independently of the code under test.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import math
from typing import TYPE_CHECKING

import pyotp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select

from tabular.auth import totp
from tabular.db import RecoveryCode, User
from tests.support.cli import invoke
from tests.support.clients import app_client, otp, user
from tests.support.db import committed_session
from tests.support.mfa import assert_refused_sign_in, enrol, new_member, sign_in, signed_in
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from pathlib import Path
    from uuid import UUID

    from tabular.demo import DemoData
    from tests.support.clients import Client

OTHER_SERVER_SECRET = "another-server-secret-" + "y" * 32
RECOVERY_CODE_LABEL = b"tabular/recovery-code/v1"
"""HKDF-SHA256 `info` of the recovery-code key (README, "Authentication")."""


def derived_key(server_secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(server_secret.encode())


def keyed(server_secret: str, code: str) -> str:
    """The stored form of a recovery code: HMAC-SHA256 of the typed code (lower case, no dashes)."""
    normalised = code.lower().replace("-", "").encode()
    return "v1:" + hmac.new(derived_key(server_secret, RECOVERY_CODE_LABEL), normalised, hashlib.sha256).hexdigest()


async def stored_second_factor(database_url: str, user_id: UUID | None) -> tuple[str, list[str]]:
    """What a copy of the database holds of the user's second factor: the TOTP column, the recovery hashes."""
    async with committed_session(database_url) as session:
        stored = (await session.get_one(User, user_id)).totp_secret
        recovery = select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user_id)
        hashes_ = list(await session.scalars(recovery))
    assert stored is not None
    return stored, hashes_


def codes_from(stored: str) -> set[str]:
    """Every code an authenticator app loaded with the stored value (or a part of it) shows now."""
    codes = set()
    for candidate in {stored, *stored.split(":")}:
        with contextlib.suppress(ValueError):  # not base32 (binascii.Error is a ValueError)
            codes.add(pyotp.TOTP(candidate).now())
    return codes


@pytest.mark.anyio
async def test_reading_the_database_does_not_reveal_a_totp_secret(
    client: Client, database_url: str, demo: DemoData
) -> None:
    account = await new_member(database_url, demo)
    await enrol(client, account, await signed_in(client, account.email, account.password))
    secret = account.authenticator.secret
    stored, _ = await stored_second_factor(database_url, account.user_id)

    assert secret.lower() not in stored.lower()
    for code in codes_from(stored):
        assert_refused_sign_in(await sign_in(client, account.email, account.password, code), "invalid_otp")
    real = await sign_in(client, account.email, account.password, account.authenticator.code())
    assert real.status_code == 200, real.text


@pytest.mark.anyio
async def test_a_stored_recovery_code_cannot_be_tested_offline_without_the_server_key(
    client: Client, database_url: str, demo: DemoData
) -> None:
    account = await new_member(database_url, demo)
    await enrol(client, account, await signed_in(client, account.email, account.password))
    _, stored = await stored_second_factor(database_url, account.user_id)
    codes = account.recovery_codes

    assert sorted(stored) == sorted(keyed(TEST_SECRET, code) for code in codes)
    unkeyed = {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    assert not unkeyed & {value.rpartition(":")[2] for value in stored}, "an attacker could test a guess alone"
    assert not {keyed(OTHER_SERVER_SECRET, code) for code in codes} & set(stored)


def test_each_recovery_code_carries_at_least_64_bits() -> None:
    codes = [code.replace("-", "") for _ in range(200) for code in totp.new_recovery_codes()]
    alphabet = set("".join(codes))  # 2000 codes draw every symbol of the alphabet many times over
    (length,) = {len(code) for code in codes}
    assert length * math.log2(len(alphabet)) >= 64, (length, len(alphabet))


@pytest.mark.anyio
async def test_a_leaked_database_and_another_server_secret_open_no_totp_secret(
    database_url: str, demo: DemoData, caplog: pytest.LogCaptureFixture
) -> None:
    member = user(demo, "member")
    errors = logging.getLogger("tabular.errors")  # the app's logging set-up replaces the root's handlers
    errors.addHandler(caplog.handler)
    try:
        async with app_client(database_url, secret_key=OTHER_SERVER_SECRET) as attacker:
            response = await sign_in(attacker, member.email, member.password, otp(member.totp_secret))
    finally:
        errors.removeHandler(caplog.handler)
    assert response.status_code == 500, response.text
    assert "set-cookie" not in response.headers
    assert "TABULAR_SECRET_KEY" in caplog.text, "the operator is told why: no user is locked out silently"


def test_the_demo_on_a_leaked_database_with_another_server_secret_prints_no_old_secret(
    tmp_path: Path, database_url: str, demo: DemoData
) -> None:
    result = invoke(
        "demo",
        "--json",
        "--force",
        cwd=tmp_path,
        TABULAR_DATABASE_URL=database_url,
        TABULAR_SECRET_KEY=OTHER_SERVER_SECRET,
    )
    assert result.returncode == 0, result.stderr
    printed = {who["totp_secret"] for who in json.loads(result.stdout)["users"]}
    assert not printed & {who.totp_secret for who in demo.users}
