"""The audit trail records logins (failed ones too), password changes and logouts, and never a secret."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from tabular.db import AuditEvent
from tests.support.clients import bearer
from tests.support.db import audit_trail
from tests.support.sessions import (
    NEW_PASSWORD,
    PASSWORD,
    Account,
    Client,
    change_password,
    login_body,
    logout,
    sign_in,
)

pytestmark = pytest.mark.anyio


def row_text(event: AuditEvent) -> str:
    """Every column of an audit row as text, to search for things that must never be there."""
    return repr({column.key: getattr(event, column.key) for column in inspect(AuditEvent).mapper.column_attrs})


async def test_the_audit_trail_records_sessions_and_never_a_password(
    client: Client, database_url: str, account: Account
) -> None:
    await client.post("/api/auth", json=login_body("nobody@example.com", PASSWORD))
    await client.post("/api/auth", json=login_body(account.email, "wrong " + PASSWORD))
    session = await sign_in(client, account.email, account.password, remember_me=True)
    changed = await change_password(client, session.bearer(), account.password, NEW_PASSWORD)
    assert changed.status_code == 200, changed.text
    renewed = changed.cookies["auth_token"]
    assert (await logout(client, bearer(renewed))).status_code == 200

    events = [event for event in await audit_trail(database_url) if event.event.startswith(("login", "logout", "pass"))]

    assert [event.event for event in events] == [
        "login.failed",
        "login.failed",
        "login.succeeded",
        "password.changed",
        "logout",
    ]
    unknown, wrong, *rest = events
    assert (unknown.actor_user_id, unknown.organization_id) == (None, None)
    assert unknown.data == {"reason": "unknown_email"}
    assert wrong.actor_user_id == account.id
    assert all(event.actor_user_id == account.id and event.organization_id is not None for event in rest)
    assert rest[0].data == {"remember_me": True, "mfa": False}
    for event in events:
        text = row_text(event)
        for secret in (PASSWORD, NEW_PASSWORD, session.token, session.csrf, renewed):
            assert secret not in text, (event.event, secret)
