"""The access log: one JSON line per request, refused ones included, written by a thread, nothing secret."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.cli import cli
from tests.conftest import make_settings
from tests.integration.resources.helpers import key

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
        assert (await client.get("/api/auth?probe=secret-looking-value", headers=member)).status_code == 200
        assert (await client.get("/api/keys")).status_code == 401
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
    assert lines[0]["credential"] == "api_key"
    assert lines[0]["user_id"]
    assert "user_id" not in lines[1]
    assert all(line["duration_ms"] >= 0 and line["time"].endswith("Z") and line["client_ip"] for line in lines)
    assert "secret-looking-value" not in output
    assert member["X-API-Key"] not in output


def test_serve_switches_uvicorns_own_access_log_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two access logs would cost twice, and uvicorn's formats and writes on the event loop."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *_, **options: seen.update(options))
    environment = {
        "TABULAR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "TABULAR_SECRET_KEY": "s" * 40,
    }
    result = CliRunner().invoke(cli, ["serve"], env=environment)
    assert result.exit_code == 0, result.output
    assert seen["access_log"] is False
    assert (seen["loop"], seen["http"]) == ("uvloop", "httptools")
