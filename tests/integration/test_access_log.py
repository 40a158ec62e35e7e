"""The access log: one JSON line per request, refused ones included, written by a thread, nothing secret."""

from __future__ import annotations

import io
import json
import os
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from tabular.access_log import AccessLine, AccessLog
from tabular.app import create_app, serve_app
from tabular.cli import cli
from tests.support.clients import from_peer, key
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
        assert traced.status_code == 200
        assert len(traced.headers["x-request-id"]) == 32  # not through a trusted proxy: a new id, not the caller's
        refused = await client.get("/api/keys")
        assert refused.status_code == 401
        assert refused.json()["request_id"] == refused.headers["x-request-id"]
        assert (
            await client.get("/api/surveys/00000000-0000-0000-0000-000000000000", headers=member)
        ).status_code == 404
    output = capsys.readouterr().out  # the app has stopped: the writer thread has written everything
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/api/auth", 200),
        ("GET", "/api/keys", 401),
        ("GET", "/api/surveys/{survey_id}", 404),  # the route's template, not the id asked for
    ]
    assert [line["request_id"] for line in lines[:2]] == [
        traced.headers["x-request-id"],
        refused.headers["x-request-id"],
    ]
    assert "refusal" not in lines[0]
    assert [line["refusal"] for line in lines[1:]] == ["unauthenticated", "not_found"]
    assert {line["pid"] for line in lines} == {os.getpid()}
    assert lines[0]["credential"] == "api_key"
    assert lines[0]["user_id"]
    assert "user_id" not in lines[1]
    assert all(line["duration_ms"] >= 0 and line["time"].endswith("Z") and line["client_ip"] for line in lines)
    assert "secret-looking-value" not in output
    assert member["X-API-Key"] not in output


async def test_a_trusted_proxys_valid_request_id_is_kept_and_every_answer_names_its_id(
    database_url: str, demo: DemoData, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(database_url, access_log=True, trusted_proxies=("10.0.0.0/8",)))
    member = key(demo, "member")
    async with AsyncTestClient(from_peer(app)) as client:  # type: ignore[arg-type]
        for peer, sent, kept in [
            ("10.0.0.5", "trace-1", True),
            ("10.0.0.5", "not a token", False),
            ("203.0.113.9", "trace-2", False),
        ]:
            answered = await client.get(
                "/api/surveys/00000000-0000-0000-0000-000000000000",
                headers=member | {"X-Request-ID": sent, "X-Test-Peer": peer},
            )
            assert answered.status_code == 404
            assert (answered.headers["x-request-id"] == sent) is kept
            assert answered.json()["request_id"] == answered.headers["x-request-id"]
        unrouted = await client.get("/no/such/path", headers={"X-Test-Peer": "10.0.0.5", "X-Request-ID": "x"})
        unallowed = await client.request("PATCH", "/api/health", headers=member)
    assert unrouted.status_code == 404
    assert unrouted.json()["request_id"] == unrouted.headers["x-request-id"] == "x"  # no route, still its id
    assert unallowed.status_code == 405
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert lines[0]["request_id"] == "trace-1"
    assert [line["refusal"] for line in lines] == ["not_found"] * 4 + ["method_not_allowed"]
    assert [(line["path"], line["request_id"]) for line in lines[3:]] == [
        ("-", "x"),  # no route took it: not the path sent, which a client chose
        ("-", unallowed.headers["x-request-id"]),
    ]


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


_REFUSED = AccessLine(
    method="GET",
    path="/api/keys",
    status=403,
    duration_ms=1.5,
    client_ip="203.0.113.9",
    request_id="abc",
    user_id="u-1",
    credential="api_key",
    refusal="forbidden_role",
)
_SERVED = AccessLine(
    method="GET", path="/api/health", status=200, duration_ms=0.25, client_ip="203.0.113.9", request_id="def"
)


def _written(*, text: bool) -> list[str]:
    stream = io.StringIO()
    log = AccessLog(stream, text=text)
    log.start()
    log.put(_REFUSED)
    log.put(_SERVED)
    log.stop()
    return stream.getvalue().splitlines()


def test_text_lines_say_the_same_for_a_person() -> None:
    first, second = _written(text=True)
    assert first.endswith(f"Z 203.0.113.9 GET /api/keys 403 forbidden_role 1.5ms api_key u-1 id=abc pid={os.getpid()}")
    assert second.endswith(f"Z 203.0.113.9 GET /api/health 200 0.25ms id=def pid={os.getpid()}")
    assert not first.startswith("{")


def test_a_json_line_lists_its_fields_in_the_text_lines_order() -> None:
    """Time first, then who asked for what and the outcome; a field with nothing to say is left out."""
    first, second = (json.loads(line) for line in _written(text=False))
    assert list(first) == [
        "time",
        "client_ip",
        "method",
        "path",
        "status",
        "refusal",
        "duration_ms",
        "credential",
        "user_id",
        "request_id",
        "pid",
    ]
    assert list(second) == ["time", "client_ip", "method", "path", "status", "duration_ms", "request_id", "pid"]
