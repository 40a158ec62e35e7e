"""`tabular keys create` for operators: a working key as JSON, and one-line refusals that create nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from tabular.db import ApiKey
from tests.support.api_keys import (
    CREATED_FIELDS,
    KEY_SHAPE,
    moment,
    whoami,
    x_api_key,
)
from tests.support.cli import invoke_in_thread
from tests.support.clients import Client, user
from tests.support.db import committed_session

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def test_cli_creates_a_working_key_as_json(
    client: Client, demo: DemoData, database_url: str, tmp_path: Path
) -> None:
    member = user(demo, "member", 0)
    args = ["keys", "create", "--email", member.email, "--name", "CI", "--read-only", "--expires", "2999-01-01"]
    result = await invoke_in_thread(*args, "--json", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == CREATED_FIELDS
    assert KEY_SHAPE.fullmatch(created["key"])
    assert (created["name"], created["read_only"]) == ("CI", True)
    assert moment(created["expires_at"]) == dt.datetime(2999, 1, 1, tzinfo=dt.UTC)

    me = await whoami(client, x_api_key(created["key"]))
    assert (me["key_id"], me["user_email"], me["read_only"]) == (created["id"], member.email, True)


async def test_cli_refusals_are_one_line(demo: DemoData, database_url: str, tmp_path: Path) -> None:
    member = user(demo, "member", 0)
    refusals = [
        (["--email", "nobody@example.com"], "nobody@example.com"),
        (["--email", member.email, "--expires", "2001-01-01"], "in the future"),
    ]
    for extra, message in refusals:
        args = ["keys", "create", "--name", "CI", "--json", *extra]
        result = await invoke_in_thread(*args, cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
        assert result.returncode != 0
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("tabular: error: ")
        assert message in lines[0]
    async with committed_session(database_url) as session:
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == len(demo.users)
