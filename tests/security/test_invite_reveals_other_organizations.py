"""Attack: an organization's admin probes who has an account anywhere on the platform (audit finding 9).

Inviting an email that had an account in another organization answered 409 `email_taken`. Emails are now
unique within an organization only: the invitation answers as for any new email, each organization's
account is its own (own password, own sign-in), and sign-in takes the account whose password it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tabular.auth.passwords import argon2_runs
from tabular.vocabulary import Role
from tests.support.clients import assert_problem, bearer
from tests.support.db import committed_session
from tests.support.factories import new_organization, new_user
from tests.support.sessions import claims_for, forge, login_body

if TYPE_CHECKING:
    from uuid import UUID

    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

TARGET = "someone@elsewhere.example"
THEIR_PASSWORD = "Their-own-passphrase-1"
OUR_PASSWORD = "Our-invited-passphrase-2"


async def _admin(database_url: str) -> tuple[UUID, str]:
    """An admin of a new organization, and the organization's name."""
    async with committed_session(database_url) as session:
        organization = await new_organization(session)
        admin = await new_user(session, organization, role=Role.ADMIN)
    return admin.id, organization.name


async def _invite(client: Client, admin: UUID, password: str | None = None) -> tuple[int, set[str]]:
    body = {"email": TARGET, "name": "Invited", "role": "member"} | ({"password": password} if password else {})
    answer = await client.post("/api/users", json=body, headers=bearer(forge(claims_for(admin, mfa=True))))
    return answer.status_code, set(answer.json())


async def test_inviting_an_email_with_an_account_elsewhere_answers_as_for_a_new_one(
    client: Client, database_url: str
) -> None:
    (first, _), (second, _) = await _admin(database_url), await _admin(database_url)

    while_nobody_has_it = await _invite(client, first)
    once_another_organization_has_it = await _invite(client, second)

    assert while_nobody_has_it == once_another_organization_has_it == (201, while_nobody_has_it[1])


async def test_each_organizations_account_signs_in_with_its_own_password(client: Client, database_url: str) -> None:
    (theirs_admin, theirs_name), (ours_admin, ours_name) = await _admin(database_url), await _admin(database_url)
    assert (await _invite(client, theirs_admin, THEIR_PASSWORD))[0] == 201
    assert (await _invite(client, ours_admin, OUR_PASSWORD))[0] == 201

    theirs = await client.post("/api/auth", json=login_body(TARGET, THEIR_PASSWORD))
    ours = await client.post("/api/auth", json=login_body(TARGET, OUR_PASSWORD))
    neither = await client.post("/api/auth", json=login_body(TARGET, "Nobody's-passphrase-3"))

    assert theirs.json()["data"]["organization_name"] == theirs_name
    assert ours.json()["data"]["organization_name"] == ours_name
    assert neither.status_code == 401
    assert neither.json()["code"] == "invalid_credentials"


async def _argon2_runs_to_sign_in(client: Client, password: str) -> int:
    before = argon2_runs()
    await client.post("/api/auth", json=login_body(TARGET, password))
    return argon2_runs() - before


async def test_signing_in_costs_the_same_whether_other_organizations_have_the_email(
    client: Client, database_url: str
) -> None:
    """An admin who invites an email with a password they chose, then times sign-ins with it, learns nothing.

    Comparing the password with each account of the email cost one argon2 run per organization holding it:
    the inviter's sign-in took a quarter of a second longer when another organization had the email. All
    accounts of an email share one keyed salt, so a sign-in hashes once and compares strings. Counted, not
    timed: the runs are what the time is made of.
    """
    (ours_admin, _), (theirs_admin, _) = await _admin(database_url), await _admin(database_url)
    assert (await _invite(client, ours_admin, OUR_PASSWORD))[0] == 201
    alone = [await _argon2_runs_to_sign_in(client, password) for password in (OUR_PASSWORD, "Wrong-passphrase-4")]

    assert (await _invite(client, theirs_admin, THEIR_PASSWORD))[0] == 201
    shared = [await _argon2_runs_to_sign_in(client, password) for password in (OUR_PASSWORD, "Wrong-passphrase-4")]

    assert alone == shared == [1, 1]


async def test_an_email_is_still_taken_within_one_organization(client: Client, database_url: str) -> None:
    admin, _ = await _admin(database_url)
    assert (await _invite(client, admin))[0] == 201
    again = await client.post(
        "/api/users",
        json={"email": TARGET.upper(), "name": "Twice", "role": "member"},
        headers=bearer(forge(claims_for(admin, mfa=True))),
    )
    assert_problem(again, 409, "email_taken")
