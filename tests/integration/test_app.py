import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from alembic.script import ScriptDirectory
from litestar import Litestar, get
from litestar.di import NamedDependency
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from tabular.app import create_app
from tabular.db import Survey
from tabular.db.migrations import alembic_config
from tabular.policies.guard import authorized
from tabular.policies.inventory import UndeclaredRouteError
from tabular.policies.requirements import requires
from tabular.readiness import StateChanges
from tabular.services.health import announce
from tabular.settings import Settings
from tabular.vocabulary import Action, Resource
from tests.support.servers import RedisServer, free_port
from tests.support.settings import make_settings

pytestmark = pytest.mark.anyio


async def test_health_is_live(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_the_database_and_no_redis(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "redis": "not_configured", "limiter": "in_process"}


async def test_ready_checks_a_configured_redis(database_url: str, redis_url: str) -> None:
    async with AsyncTestClient(create_app(make_settings(database_url, redis_url=redis_url))) as client:
        response = await client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "redis": "ok", "limiter": "redis"}


async def test_ready_is_degraded_not_down_without_redis(database_url: str) -> None:
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    async with AsyncTestClient(create_app(make_settings(database_url, redis_url=unreachable))) as client:
        response = await client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "down",
        "limiter": "in_process_fallback",
    }


async def test_openapi_is_a_valid_3_1_document(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert "/api/health" in document["paths"]


@pytest.mark.parametrize("path", ["/schema/redoc", "/schema/swagger"])
async def test_api_docs_are_served(client: AsyncTestClient[Litestar], path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', response.text)
    assert policy is not None, "the page says what it may load (tests/browser/test_docs_pages.py draws it under it)"
    directives = dict(directive.strip().split(" ", 1) for directive in policy.group(1).split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == directives["img-src"].removesuffix(" data:") == "'self'"
    assert "unsafe-inline" not in directives["script-src"]


async def test_unknown_route_is_a_problem_document(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.pop("request_id")  # a path no route matches is still a named request
    assert body == {"title": "Not Found", "status": 404, "code": "not_found", "detail": "Not Found"}


async def test_wrong_method_is_a_problem_document(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/api/health")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


async def test_cors_is_off_by_default(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_cors_allows_only_configured_origins(database_url: str) -> None:
    settings = make_settings(database_url, cors_origins=("https://app.example",))
    async with AsyncTestClient(create_app(settings)) as client:
        allowed = await client.get("/api/health", headers={"Origin": "https://app.example"})
        other = await client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


async def test_a_route_without_a_policy_declaration_stops_start_up(settings: Settings) -> None:
    @get("/api/forgotten")
    async def forgotten() -> str:
        return "leak"

    assert "GET /api/forgotten" in await start_up_refusal(settings, forgotten)


async def test_a_route_locating_by_a_parameter_it_does_not_have_stops_start_up(settings: Settings) -> None:
    @get("/api/misdeclared/{report_id:uuid}", **requires(Resource.REPORT, Action.READ, by="survey_id"))
    async def misdeclared() -> str:
        return "unguarded"

    refusal = await start_up_refusal(settings, misdeclared)
    assert "GET /api/misdeclared/{report_id:uuid} (by='survey_id')" in refusal


async def test_a_route_taking_a_row_its_declaration_does_not_locate_stops_start_up(settings: Settings) -> None:
    @get(
        "/api/miswired/{report_id:uuid}",
        **requires(Resource.REPORT, Action.READ, by="report_id"),
        dependencies={"survey": authorized(Survey)},
    )
    async def miswired(survey: NamedDependency[Survey]) -> str:
        return survey.title

    refusal = await start_up_refusal(settings, miswired)
    assert "GET /api/miswired/{report_id:uuid} takes survey: Survey" in refusal


async def start_up_refusal(settings: Settings, handler: Any) -> str:
    """Why an app with `handler` added refuses to start (it must refuse)."""
    app = create_app(settings)
    app.register(handler)
    with pytest.raises(BaseException) as raised:  # noqa: PT011 - the lifespan wraps it in exception groups
        async with AsyncTestClient(app):
            pass
    refusal = _find(raised.value, UndeclaredRouteError)
    assert refusal is not None
    return str(refusal)


def _find(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    if isinstance(error, kind):
        return error
    children = [*getattr(error, "exceptions", ()), error.__cause__, error.__context__]
    return next((found for child in children if child and (found := _find(child, kind))), None)


def test_redis_server_fixture_is_a_real_process(redis_server: RedisServer) -> None:
    with redis.Redis.from_url(redis_server.url) as client:
        assert client.info("server")["redis_version"]


@contextlib.contextmanager
def said_by(name: str) -> Iterator[list[logging.LogRecord]]:
    """The records logger `name` emits at INFO and above meanwhile (Litestar reconfigures the root logger at
    start-up, so pytest's `caplog` handler on it may be gone by then)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    chosen = logging.getLogger(name)
    level, chosen.level = chosen.level, logging.INFO
    chosen.addHandler(handler)
    try:
        yield records
    finally:
        chosen.removeHandler(handler)
        chosen.setLevel(level)


async def test_readiness_logs_a_change_of_state_once_not_every_probe(database_url: str, tmp_path: Path) -> None:
    """Probed every few seconds through an outage, the log gets one line down and one line back, no traceback."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        async with AsyncTestClient(create_app(make_settings(database_url, redis_url=server.url))) as client:
            with said_by("tabular.readiness") as records:
                states = [(await client.get("/api/ready")).json()["redis"]]
                server.stop()
                states += [(await client.get("/api/ready")).json()["redis"] for _ in range(3)]
                server.start()
                states.append((await client.get("/api/ready")).json()["redis"])
    finally:
        server.stop()
    assert states == ["ok", "down", "down", "down", "ok"]
    lines = [record for record in records if record.levelno == logging.WARNING]
    down, back = (record.getMessage() for record in lines)
    assert down.startswith("redis is down (")
    assert re.fullmatch(r"redis answers again, after \d+\.\d s", back), back
    assert all(record.exc_info is None for record in lines), "one line each, no traceback"


async def test_the_start_up_line_says_what_the_process_runs_on(database_url: str) -> None:
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    with said_by("tabular.services.health") as records:
        async with AsyncTestClient(create_app(make_settings(database_url, redis_url=unreachable))):
            pass
    [line] = [record.getMessage() for record in records if record.getMessage().startswith("tabular ")]
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert f"at revision {head}" in line
    assert "secret from settings" in line
    assert "rate limiter in_process_fallback (Redis did not answer)" in line


async def test_the_start_up_line_never_shows_the_database_password(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    secret = make_settings("postgresql://tabular:s3cret-pw@db.internal/tabular")
    line = await announce(secret, app.state.db_config.get_engine(), app.state.rate_limiter, StateChanges())
    assert "s3cret-pw" not in line
    assert "postgresql://tabular:***@db.internal/tabular" in line
    await app.state.db_config.get_engine().dispose()
