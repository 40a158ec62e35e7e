"""The access log: one JSON line per request, refused ones included, written by a thread, nothing secret."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from tabular.app import create_app, serve_app
from tabular.cli import cli
from tests.support.clients import key
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from pathlib import Path

    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def test_each_request_is_one_json_line(
    database_url: str, demo: DemoData, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(database_url, access_log=True))
    member = key(demo, "member")
    async with AsyncTestClient(app) as client:
        traced = await client.get("/api/auth?probe=secret-looking-value", headers=member | {"X-Request-ID": "trace-1"})
        assert (traced.status_code, traced.headers["x-request-id"]) == (200, "trace-1")
        refused = await client.get("/api/keys", headers={"X-Request-ID": "not a token"})
        assert refused.status_code == 401
        assert len(refused.headers["x-request-id"]) == 32  # an unusable id is replaced, not echoed
        assert (
            await client.get("/api/surveys/00000000-0000-0000-0000-000000000000", headers=member)
        ).status_code == 404
    output = capsys.readouterr().out  # the app has stopped: the writer thread has written everything
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/api/auth", 200),
        ("GET", "/api/keys", 401),
        ("GET", "/api/surveys/00000000-0000-0000-0000-000000000000", 404),
    ]
    assert [line["request_id"] for line in lines[:2]] == ["trace-1", refused.headers["x-request-id"]]
    assert {line["pid"] for line in lines} == {os.getpid()}
    assert lines[0]["credential"] == "api_key"
    assert lines[0]["user_id"]
    assert "user_id" not in lines[1]
    assert all(line["duration_ms"] >= 0 and line["time"].endswith("Z") and line["client_ip"] for line in lines)
    assert "secret-looking-value" not in output
    assert member["X-API-Key"] not in output


def test_serve_switches_uvicorns_own_access_log_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two access logs would cost twice, and uvicorn's formats and writes on the event loop."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: seen.update(options, target=target))
    environment = {
        "TABULAR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "TABULAR_SECRET_KEY": "s" * 40,
    }
    result = CliRunner().invoke(cli, ["serve"], env=environment)
    assert result.exit_code == 0, result.output
    assert seen["access_log"] is False
    assert (seen["loop"], seen["http"]) == ("uvloop", "httptools")
    assert (seen["target"], seen["factory"]) == ("tabular.app:serve_app", True)


def test_a_served_app_freezes_its_start_up_heap_and_a_test_app_does_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Long-lived start-up objects leave the collector's sight in a server, where full collections hurt."""
    monkeypatch.setenv("TABULAR_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("TABULAR_SECRET_KEY", "s" * 40)
    hooks = {getattr(hook, "__name__", "") for hook in serve_app().on_startup}
    assert "_freeze_what_start_up_made" in hooks
    assert "_freeze_what_start_up_made" not in {getattr(hook, "__name__", "") for hook in create_app().on_startup}
