"""`tabular users create` runs the code `POST /api/users` runs: the same input rules, password rule and audit event."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from tabular.db import AuditEvent, User
from tabular.db.audit import AuditEventType
from tabular.db.config import make_db_config
from tabular.settings import Settings
from tests.support.cli import invoke_in_thread

if TYPE_CHECKING:
    from pathlib import Path

    from httpx import AsyncClient

    from tabular.demo import DemoData
    from tests.support.cli import Result

WEAK_PASSWORDS = {
    "short": "The password must have at least 10 characters.",
    "aaaaaaaaaaaa": "The password must use at least 5 different characters.",
    "pat.operator@example.com": "The password must not be the email address.",
}


async def _create(
    tmp_path: Path, database_url: str, *, email: str, password: str, name: str = "Pat Operator"
) -> Result:
    args = ["users", "create", "--email", email, "--name", name, "--password", password, "--role", "member"]
    return await invoke_in_thread(*args, "--org", "Operators Inc", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)


async def _rows(database_url: str) -> tuple[list[User], list[AuditEvent]]:
    config = make_db_config(Settings(database_url=database_url, secret_key="x" * 40))
    try:
        async with config.get_session() as session:
            users = list(await session.scalars(select(User).where(User.email.like("%@example.com"))))
            events = list(
                await session.scalars(select(AuditEvent).where(AuditEvent.event == AuditEventType.USER_CREATED.value))
            )
            return users, events
    finally:
        await config.get_engine().dispose()


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the rule is code, not SQL: one engine
async def test_the_cli_refuses_the_passwords_the_api_refuses(
    tmp_path: Path, client: AsyncClient, demo: DemoData, database_url: str
) -> None:
    admin = {"X-API-Key": next(person.api_key for person in demo.users if person.role == "admin")}
    for password, reason in WEAK_PASSWORDS.items():
        body = {"email": "pat.operator@example.com", "name": "Pat", "role": "member", "password": password}
        api = await client.post("/api/users", json=body, headers=admin)
        assert (api.status_code, api.json()["code"], api.json()["detail"]) == (422, "weak_password", reason)

        cli = await _create(tmp_path, database_url, email="pat.operator@example.com", password=password)
        assert cli.returncode == 1
        assert cli.stderr.strip() == f"tabular: error: {reason}"
    users, _ = await _rows(database_url)
    assert users == []


@pytest.mark.anyio
async def test_the_cli_refuses_the_names_and_emails_the_api_refuses(tmp_path: Path, database_url: str) -> None:
    bad_email = await _create(tmp_path, database_url, email="not-an-email", password="a-long-enough-password")
    assert bad_email.returncode == 2
    assert "--email" in bad_email.stderr
    assert "not an email address" in bad_email.stderr
    bad_name = await _create(
        tmp_path, database_url, email="pat@example.com", password="a-long-enough-password", name="a\tb"
    )
    assert bad_name.returncode == 2
    assert "--name" in bad_name.stderr
    assert "must not be blank or contain control characters" in bad_name.stderr
    users, _ = await _rows(database_url)
    assert users == []


@pytest.mark.anyio
async def test_the_cli_writes_the_audit_event_the_api_writes(
    tmp_path: Path, client: AsyncClient, demo: DemoData, database_url: str
) -> None:
    admin = {"X-API-Key": next(person.api_key for person in demo.users if person.role == "admin")}
    body = {"email": "via.api@example.com", "name": "Via API", "role": "member", "password": "a-long-enough-password"}
    assert (await client.post("/api/users", json=body, headers=admin)).status_code == 201

    created = await _create(tmp_path, database_url, email="Via.CLI@Example.com", password="a-long-enough-password")
    assert created.returncode == 0, created.stderr

    users, events = await _rows(database_url)
    by_email = {user.email: user for user in users}
    assert set(by_email) == {"via.api@example.com", "via.cli@example.com"}
    by_target = {event.target_id: event for event in events}
    api_event = by_target[str(by_email["via.api@example.com"].id)]
    cli_event = by_target[str(by_email["via.cli@example.com"].id)]
    for event, email in ((api_event, "via.api@example.com"), (cli_event, "via.cli@example.com")):
        assert event.target_type == "user"
        assert event.data == {"email": email, "role": "member", "workspace_ids": [], "password_set": True}
    assert api_event.actor_user_id is not None, "an admin made this one"
    assert cli_event.actor_user_id is None, "an operator made this one: no user did"
    assert cli_event.organization_id == by_email["via.cli@example.com"].organization_id
