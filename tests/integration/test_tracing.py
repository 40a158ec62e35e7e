"""OpenTelemetry tracing (`TABULAR_OTEL=true`): a span per request, named by its route, saying who asked."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from litestar.plugins.opentelemetry import OpenTelemetryPlugin
from litestar.testing import AsyncTestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tabular.app import create_app
from tabular.settings import OTEL_EXTRA_MISSING, Settings, SettingsError
from tabular.tracing import TracingMiddleware
from tests.support.clients import from_peer, key
from tests.support.settings import TEST_SECRET, make_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tabular.demo import DemoData

ONE_ENGINE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # tracing touches no SQL
EXPORTER = InMemorySpanExporter()
MISSING_SURVEY = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider sends every span, at once, to `EXPORTER` (OpenTelemetry sets it once)."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


@ONE_ENGINE
@pytest.mark.anyio
async def test_each_request_is_a_span_named_by_its_route(
    database_url: str, demo: DemoData, spans: InMemorySpanExporter
) -> None:
    app = create_app(make_settings(database_url, otel=True, trusted_proxies=("10.0.0.0/8",)))
    member = key(demo, "member")
    async with AsyncTestClient(from_peer(app)) as client:  # type: ignore[arg-type]
        proxied = {"X-Test-Peer": "10.0.0.5", "X-Forwarded-For": "198.51.100.7"}
        signed_in = await client.get("/api/auth", headers=member | proxied)
        missing = await client.get(f"/api/surveys/{MISSING_SURVEY}?probe=secret-looking-value", headers=member)
        refused = await client.get("/api/keys")
        unrouted = await client.get("/no/such/path")
    statuses = [answer.status_code for answer in (signed_in, missing, refused, unrouted)]
    assert statuses == [200, 404, 401, 404]
    found = {span.attributes["tabular.request_id"]: span for span in _server_spans(spans)}  # type: ignore[index]

    span = found[signed_in.headers["x-request-id"]]
    assert span.name == "GET /api/auth"
    assert span.attributes["enduser.id"] == signed_in.json()["data"]["user_id"]  # type: ignore[index]
    assert span.attributes["tabular.credential"] == "api_key"  # type: ignore[index]
    assert span.attributes["http.status_code"] == 200  # type: ignore[index]
    assert "tabular.refusal" not in span.attributes  # type: ignore[operator]
    assert span.attributes["client.address"] == "198.51.100.7"  # type: ignore[index] # not the proxy's 10.0.0.5

    span = found[missing.headers["x-request-id"]]
    assert span.name == "GET /api/surveys/{survey_id}"
    assert span.attributes["http.route"] == "/api/surveys/{survey_id}"  # type: ignore[index]
    assert span.attributes["tabular.refusal"] == "not_found"  # type: ignore[index]
    assert MISSING_SURVEY not in span.name
    assert all("secret-looking-value" not in str(value) for value in span.attributes.values())  # type: ignore[union-attr]

    span = found[refused.headers["x-request-id"]]
    assert (span.name, span.attributes["tabular.refusal"]) == ("GET /api/keys", "unauthenticated")  # type: ignore[index]
    assert "enduser.id" not in span.attributes  # type: ignore[operator]

    span = found[unrouted.json()["request_id"]]
    assert span.name == "GET"  # no route: the method alone, as OpenTelemetry's HTTP conventions say
    assert "http.route" not in span.attributes  # type: ignore[operator]


@ONE_ENGINE
def test_tracing_off_adds_nothing_and_on_wraps_the_router(database_url: str) -> None:
    with pytest.raises(KeyError):
        create_app(make_settings(database_url)).plugins.get(OpenTelemetryPlugin)
    traced = create_app(make_settings(database_url, otel=True)).plugins.get(OpenTelemetryPlugin)
    assert traced.middleware.middleware is TracingMiddleware


@ONE_ENGINE
def test_without_the_extra_tracing_stops_start_up_with_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("opentelemetry.sdk", "opentelemetry.instrumentation.asgi", "tabular.tracing"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed: importing it fails
    with pytest.raises(SettingsError, match="TABULAR_OTEL: tracing needs the `otel` extra"):
        Settings.from_env({"TABULAR_OTEL": "true", "TABULAR_SECRET_KEY": TEST_SECRET})
    with pytest.raises(SettingsError, match="TABULAR_OTEL: tracing needs the `otel` extra"):
        create_app(make_settings(database_url, otel=True))
    assert Settings.from_env({"TABULAR_OTEL": "false", "TABULAR_SECRET_KEY": TEST_SECRET}).otel is False


def test_the_command_says_so_without_a_traceback(tmp_path: os.PathLike[str]) -> None:
    hide = "import sys; sys.modules['opentelemetry'] = None; from tabular.cli import main; main()"
    environment = {**os.environ, "TABULAR_OTEL": "true", "TABULAR_SECRET_KEY": TEST_SECRET}
    command = [sys.executable, "-c", hide, "serve"]
    ran = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, check=False)
    assert ran.returncode == 1
    assert ran.stderr == f"tabular: error: TABULAR_OTEL: {OTEL_EXTRA_MISSING}\n"


def _server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.kind == trace.SpanKind.SERVER]
