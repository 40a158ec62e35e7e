"""API keys for the tests: the key's own header, creating, listing and rotating through the API, its rows."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pyotp
from sqlalchemy import select, update

from tabular.db import ApiKey
from tests.support.db import committed_session, execute

if TYPE_CHECKING:
    from httpx import Response

    from tests.support.clients import Client


KEY_SHAPE = re.compile(r"tp_[A-Za-z0-9]{48}")


VIEW_FIELDS = {
    "id",
    "name",
    "prefix",
    "status",
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
    "read_only",
    "workspace_id",
}


CREATED_FIELDS = {"id", "key", "name", "prefix", "created_at", "expires_at", "read_only", "workspace_id", "replaces"}


GRACE = dt.timedelta(hours=24)


def x_api_key(secret: str) -> dict[str, str]:
    return {"X-API-Key": secret}


async def whoami(client: Client, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/auth", headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def create_key(client: Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/keys", json={"name": "test key"} | fields, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def list_keys(client: Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/keys", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def rotate(client: Client, headers: dict[str, str], key_id: str) -> Response:
    return await client.post(f"/api/keys/{key_id}/rotate", headers=headers)


def moment(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def iso(when: dt.datetime) -> str:
    return when.replace(microsecond=0).isoformat()


async def key_column(database_url: str, key_id: str, column: Any) -> Any:
    async with committed_session(database_url) as session:
        return await session.scalar(select(column).where(ApiKey.id == UUID(key_id)))


async def expire_now(database_url: str, key_id: str) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await execute(database_url, update(ApiKey).where(ApiKey.id == UUID(key_id)).values(expires_at=past))


def next_otp(secret: str | None) -> str:
    """A code of the next 30-second step: the current one is spent by `login`."""
    assert secret is not None
    return pyotp.TOTP(secret).at(time.time() + 30)
