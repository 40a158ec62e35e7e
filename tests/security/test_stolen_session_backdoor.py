"""Attack: turn a stolen session into a lasting backdoor (audit finding 1).

With a session token alone (no password, no second factor) the thief enrols their own authenticator, mints
an API key, or turns the owner's MFA off. Each of these steps now needs a recent proof of the password (in
the body, or a sign-in of the last ten minutes); a stolen token is rarely fresh, and its thief does not
know the password. Enabling MFA ends every other session, so a session the thief holds does not survive
the owner's enrolment.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tabular.settings import RECENT_SIGN_IN
from tests.support.clients import Client, assert_problem, bearer, key, login, user, user_id
from tests.support.mfa import Authenticator, assert_recovery_codes
from tests.support.sessions import assert_auth_problem, claims_for, forge, new_account, sign_in, unix_now

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio

MFA = "/api/auth/mfa"


def stolen(user: uuid.UUID, *, mfa: bool = False) -> dict[str, str]:
    """A valid session of `user`, signed in with the password just over `RECENT_SIGN_IN` ago."""
    signed_in = unix_now() - int(RECENT_SIGN_IN.total_seconds()) - 60
    return bearer(forge(claims_for(user, auth_time=signed_in, mfa=mfa)))


async def test_a_stolen_session_cannot_enrol_the_thiefs_authenticator(client: Client, database_url: str) -> None:
    owner = await new_account(database_url, "enrol-theft@example.com")
    headers = stolen(owner.id)

    assert_auth_problem(await client.post(f"{MFA}/setup", headers=headers), 403, "password_required")
    wrong = await client.post(f"{MFA}/setup", json={"password": "not the password"}, headers=headers)
    assert_auth_problem(wrong, 403, "password_incorrect")

    setup = await client.post(f"{MFA}/setup", json={"password": owner.password}, headers=headers)
    assert setup.status_code == 200, setup.text  # the owner, who knows it, may
    app = Authenticator(setup.json()["data"]["secret"])
    confirm = await client.post(f"{MFA}/confirm", json={"code": app.code()}, headers=headers)
    assert_auth_problem(confirm, 403, "password_required")


async def test_a_fresh_sign_in_is_proof_enough(client: Client, database_url: str) -> None:
    owner = await new_account(database_url, "fresh-proof@example.com")
    session = await sign_in(client, owner.email, owner.password)

    setup = await client.post(f"{MFA}/setup", headers=session.bearer())
    assert setup.status_code == 200, setup.text
    app = Authenticator(setup.json()["data"]["secret"])
    assert_recovery_codes(await client.post(f"{MFA}/confirm", json={"code": app.code()}, headers=session.bearer()))


async def test_enabling_mfa_ends_every_other_session(client: Client, database_url: str) -> None:
    owner = await new_account(database_url, "ends-sessions@example.com")
    thief = await sign_in(client, owner.email, owner.password)
    mine = await sign_in(client, owner.email, owner.password)

    setup = await client.post(f"{MFA}/setup", headers=mine.bearer())
    app = Authenticator(setup.json()["data"]["secret"])
    confirmed = await client.post(f"{MFA}/confirm", json={"code": app.code()}, headers=mine.bearer())
    assert_recovery_codes(confirmed)

    assert_auth_problem(await client.get("/api/auth", headers=thief.bearer()), 401, "session_revoked")
    me = await client.get("/api/auth", headers=bearer(confirmed.cookies["auth_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["data"]["mfa_verified"] is True


async def test_a_stolen_session_cannot_mint_or_rotate_a_key(client: Client, demo: DemoData) -> None:
    admin = user(demo, "admin")
    headers = stolen(await _id(client, demo), mfa=True)

    assert_problem(await client.post("/api/keys", json={"name": "backdoor"}, headers=headers), 403, "password_required")
    made = await client.post("/api/keys", json={"name": "mine", "password": admin.password}, headers=headers)
    assert made.status_code == 201, made.text

    rotate = f"/api/keys/{made.json()['id']}/rotate"
    assert_problem(await client.post(rotate, headers=headers), 403, "password_required")
    rotated = await client.post(rotate, json={"password": admin.password}, headers=headers)
    assert rotated.status_code == 201, rotated.text


async def test_a_stolen_session_cannot_turn_mfa_off_or_renew_recovery_codes(client: Client, demo: DemoData) -> None:
    admin = user(demo, "admin")
    assert admin.totp_secret is not None
    app = Authenticator(admin.totp_secret)
    headers = stolen(await _id(client, demo), mfa=True)

    for action in ("disable", "recovery-codes"):
        refused = await client.post(f"{MFA}/{action}", json={"code": app.code()}, headers=headers)
        assert_auth_problem(refused, 403, "password_required")
    me = await client.get("/api/auth", headers=key(demo, "admin"))
    assert me.json()["data"]["mfa_enabled"] is True


async def test_a_password_change_lists_the_keys_that_outlive_it(client: Client, demo: DemoData) -> None:
    admin = user(demo, "admin")
    token = await login(client, admin)
    client.cookies.clear()
    made = await client.post("/api/keys", json={"name": "deploy"}, headers=bearer(token))
    assert made.status_code == 201, made.text

    body = {"current_password": admin.password, "new_password": "A-new-passphrase-42"}
    changed = await client.post("/api/auth/password", json=body, headers=bearer(token))

    assert changed.status_code == 200, changed.text
    listed = {item["id"]: item["status"] for item in changed.json()["data"]["active_keys"]}
    assert listed[made.json()["id"]] == "active"
    assert set(listed.values()) == {"active"}
    still = await client.get("/api/auth", headers={"X-API-Key": made.json()["key"]})
    assert still.status_code == 200  # kept, as listed, for the owner to revoke if it is not theirs


async def _id(client: Client, demo: DemoData) -> uuid.UUID:
    return uuid.UUID(await user_id(client, user(demo, "admin")))
