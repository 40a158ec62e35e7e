"""Nothing secret at rest: no plaintext key, password or recovery code anywhere in the database files or rows."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from tabular.db import ApiKey
from tests.support.api_keys import (
    create_key,
    next_otp,
)
from tests.support.clients import Client, session_headers, user
from tests.support.db import committed_session

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def stored_bytes(database_url: str) -> bytes:
    """Everything the database holds: the SQLite files (free pages and WAL included), or every PostgreSQL row."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        return b"".join(file.read_bytes() for file in sorted(path.parent.glob(path.name + "*")))
    async with committed_session(database_url) as session:
        tables = await session.scalars(
            text("SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public'")
        )
        rows = [await session.scalars(text(f"SELECT CAST(t AS text) FROM {table} AS t")) for table in tables]  # noqa: S608
    return "\n".join(row for result in rows for row in result).encode()


async def test_no_plaintext_key_password_or_recovery_code_is_stored(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = user(demo, "admin")
    headers = await session_headers(client, admin)
    response = await client.post(
        "/api/auth/mfa/recovery-codes", json={"code": next_otp(admin.totp_secret)}, headers=headers
    )
    assert response.status_code == 200, response.text
    recovery_codes = response.json()["data"]["recovery_codes"]
    created = await create_key(client, headers)
    async with committed_session(database_url) as session:
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == len(demo.users) + 1

    keys = [created["key"], *(u.api_key for u in demo.users if u.api_key)]
    plaintexts = [*keys, *(key[10:] for key in keys), *(u.password for u in demo.users)]
    plaintexts += [*recovery_codes, *(code.replace("-", "") for code in recovery_codes)]
    assert len(plaintexts) == 2 * 5 + 4 + 2 * 10
    stored = await stored_bytes(database_url)
    assert hashlib.sha256(created["key"].encode()).hexdigest().encode() in stored  # the dump does hold the keys
    leaked = [secret for secret in plaintexts if secret.encode() in stored]
    assert leaked == []
