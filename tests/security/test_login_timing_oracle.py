"""Attack: tell registered emails from unknown ones by how long a failed sign-in takes.

An unknown email is verified against a dummy argon2 hash, so it costs what a wrong password costs. The
two are timed alternately in one run and their medians compared with a generous bound (within a factor
of two): without the dummy verification an unknown email answers in a millisecond against a few hundred
for argon2, far outside it. This compares two medians of the same run; it asserts no absolute timing.
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

import pytest

from tests.support.clients import password_sign_in
from tests.support.sessions import assert_auth_problem, new_account

if TYPE_CHECKING:
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

ATTEMPTS = 9


async def _seconds(client: Client, email: str, password: str) -> float:
    started = time.perf_counter()
    answer = await password_sign_in(client, email, password)
    elapsed = time.perf_counter() - started
    assert_auth_problem(answer, 401, "invalid_credentials")  # the same answer too
    return elapsed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # argon2 costs alike on both engines
async def test_an_unknown_email_costs_what_a_wrong_password_costs(client: Client, database_url: str) -> None:
    account = await new_account(database_url, "timed@example.com")
    await _seconds(client, account.email, "warm-up, not counted")
    unknown: list[float] = []
    wrong: list[float] = []
    for attempt in range(ATTEMPTS):  # alternated, so a slower moment of the machine weighs on both
        unknown.append(await _seconds(client, f"nobody-{attempt}@example.com", "any password at all"))
        wrong.append(await _seconds(client, account.email, f"wrong password {attempt}"))
    medians = statistics.median(unknown), statistics.median(wrong)
    assert 0.5 <= medians[0] / medians[1] <= 2, (
        f"medians: unknown email {medians[0]:.4f}s, wrong password {medians[1]:.4f}s"
    )
