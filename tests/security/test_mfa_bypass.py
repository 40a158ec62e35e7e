"""Attack: get past the second factor with the password alone.

Leave the code out (or send an empty one), replay a code seen once (same 30-second step), reuse a
recovery code, brute-force the six digits, or race: send many codes at once so that several are checked
before any is spent or counted. Each is refused; of racing requests, each code lets at most one in, and the
five-wrong-codes throttle holds however they interleave.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING
from uuid import UUID

import pyotp
import pytest

from tabular.auth.totp import STEP_SECONDS
from tabular.db import Organization
from tests.support.clients import bearer
from tests.support.db import committed_session
from tests.support.factories import new_user
from tests.support.mfa import (
    Account,
    assert_mfa_problem,
    assert_refused_sign_in,
    enrol,
    mfa_post,
    posts_together,
    sign_in,
    sign_ins_together,
    signed_in,
)

if TYPE_CHECKING:
    import httpx

    from tabular.demo import DemoData
    from tabular.settings import Settings
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

WRONG_CODES_ALLOWED = 5
ONE_ENGINE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For the attacks one request at a time: the engines differ in how they lock, which only the races exercise
(and tests/integration/auth/mfa runs these steps on both)."""


@pytest.fixture
async def enrolled(client: Client, database_url: str, demo: DemoData) -> Account:
    """A member of the demo organization who turned MFA on through the API, holding ten recovery codes."""
    async with committed_session(database_url) as session:
        organization = await session.get_one(Organization, UUID(demo.organization.id))
        created = await new_user(session, organization, email="mfa.target@demo.tabular.test", password=Account.password)
    account = Account(email=created.email, user_id=created.id)
    return await enrol(client, account, await signed_in(client, account.email, account.password))


def wrong_codes(account: Account, count: int) -> list[str]:
    """`count` distinct six-digit codes, none of them valid in the steps around now."""
    totp, now = pyotp.TOTP(account.authenticator.secret), time.time()
    near = {totp.at(now + step * STEP_SECONDS) for step in range(-3, 4)}
    return list(itertools.islice((code for n in range(10**6) if (code := f"{n:06d}") not in near), count))


def statuses(answers: list[httpx.Response]) -> list[int]:
    return sorted(answer.status_code for answer in answers)


@ONE_ENGINE
async def test_signing_in_without_the_code_is_refused(client: Client, enrolled: Account) -> None:
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password), "mfa_required")
    for empty in ("", " ", "000000000000"):
        answer = await sign_in(client, enrolled.email, enrolled.password, empty)
        assert answer.status_code in {401, 422}, answer.text
        assert "set-cookie" not in answer.headers
    body = {"email": enrolled.email, "password": enrolled.password, "action": "login", "otp": None}
    answer = await client.post("/api/auth", json=body)
    assert answer.status_code in {401, 422}, answer.text
    assert "set-cookie" not in answer.headers


@ONE_ENGINE
async def test_a_replayed_code_is_refused(client: Client, enrolled: Account) -> None:
    code = enrolled.authenticator.code()
    token = await signed_in(client, enrolled.email, enrolled.password, code)
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password, code), "invalid_otp")
    replayed = await mfa_post(client, "recovery-codes", token, {"code": code})
    assert_mfa_problem(replayed, 401, "invalid_otp")  # spent for sign-in, spent everywhere


@ONE_ENGINE
async def test_a_reused_recovery_code_is_refused(client: Client, enrolled: Account) -> None:
    recovery = enrolled.recovery_codes[0]
    await signed_in(client, enrolled.email, enrolled.password, recovery)
    for spelling in (recovery, recovery.upper(), recovery.replace("-", "")):
        assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password, spelling), "invalid_otp")


@ONE_ENGINE
async def test_brute_forcing_the_code_is_throttled(client: Client, enrolled: Account) -> None:
    for wrong in wrong_codes(enrolled, WRONG_CODES_ALLOWED):
        assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password, wrong), "invalid_otp")
    for right in (enrolled.authenticator.code(), enrolled.recovery_codes[0]):
        throttled = await sign_in(client, enrolled.email, enrolled.password, right)
        assert_mfa_problem(throttled, 429, "mfa_throttled")
        assert "set-cookie" not in throttled.headers


async def test_parallel_wrong_codes_cannot_outrun_the_throttle(settings: Settings, enrolled: Account) -> None:
    answers = await sign_ins_together(settings, enrolled, wrong_codes(enrolled, 7))
    assert statuses(answers) == [401] * WRONG_CODES_ALLOWED + [429] * 2
    throttled = await sign_ins_together(settings, enrolled, [enrolled.authenticator.code()])
    assert_mfa_problem(throttled[0], 429, "mfa_throttled")


async def test_parallel_copies_of_a_code_and_a_recovery_code_let_one_in_each(
    settings: Settings, enrolled: Account
) -> None:
    code, recovery = enrolled.authenticator.code(), enrolled.recovery_codes[0]
    answers = await sign_ins_together(settings, enrolled, [code] * 4 + [recovery] * 4)
    assert statuses(answers)[:3] == [200, 200, 401], "one per code, each spent once"
    for answer in answers:  # a spent code counts as a wrong one: six of them may reach the throttle
        if answer.status_code != 200:
            assert_mfa_problem(
                answer, answer.status_code, {401: "invalid_otp", 429: "mfa_throttled"}[answer.status_code]
            )


async def test_parallel_copies_of_a_right_code_among_wrong_ones_let_one_in(
    settings: Settings, enrolled: Account
) -> None:
    """Three wrong codes cannot throttle the right one (five are needed), so the race is decided by the code
    alone: one copy gets in, the others find it spent."""
    right, wrong = enrolled.authenticator.code(), wrong_codes(enrolled, 3)
    answers = await sign_ins_together(settings, enrolled, [right, wrong[0], right, wrong[1], right, wrong[2]])
    assert statuses(answers) == [200] + [401] * 5
    for answer in answers:
        if answer.status_code == 401:
            assert_refused_sign_in(answer, "invalid_otp")


async def test_parallel_copies_of_one_code_on_an_mfa_endpoint_let_one_through(
    client: Client, settings: Settings, enrolled: Account
) -> None:
    """A session holder racing `/mfa/recovery-codes` with one code: it is spent by the first request only."""
    token = await signed_in(client, enrolled.email, enrolled.password, enrolled.recovery_codes[1])
    code = {"code": enrolled.authenticator.code()}
    answers = await posts_together(settings, "/api/auth/mfa/recovery-codes", [code] * 4, headers=bearer(token))
    assert statuses(answers) == [200, 401, 401, 401]
