"""Session-wide real servers (Redis, PostgreSQL) and per-test databases built by the migrations."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.db.migrations import upgrade
from tabular.demo import DemoData
from tests.support.db import seed
from tests.support.servers import PostgresServer, RedisClusterServers, RedisServer
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from litestar import Litestar

    from tabular.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _forget_database_config_names() -> Iterator[None]:
    """advanced-alchemy names each new config's state keys by searching a process-wide registry recursively;
    a process that builds hundreds of apps (this suite) would hit the recursion limit. One app per process
    in production never does."""
    yield
    for registry in (
        "_SESSION_SCOPE_KEY_REGISTRY",
        "_ENGINE_APP_STATE_KEY_REGISTRY",
        "_SESSIONMAKER_APP_STATE_KEY_REGISTRY",
    ):
        getattr(SQLAlchemyAsyncConfig, registry).clear()


@pytest.fixture(scope="session")
def server_dir() -> Iterator[Path]:
    """Outside pytest's rotating temp dirs, which a concurrent pytest run may delete under a live server."""
    path = Path(tempfile.mkdtemp(prefix="tabular-test-servers-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server(server_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(server_dir / "redis")
    server.directory.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(server_dir: Path) -> Iterator[RedisClusterServers]:
    """Three masters in one Redis Cluster, from the same redis-server binary, for the scale-out tests."""
    cluster = RedisClusterServers(server_dir / "redis-cluster")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A Redis URL with an empty database for this test."""
    import redis  # noqa: PLC0415

    with redis.Redis.from_url(redis_server.url) as client:
        client.flushdb()
    return redis_server.url


@pytest.fixture(scope="session")
def postgres(server_dir: Path) -> Iterator[PostgresServer]:
    """One PostgreSQL cluster with a migrated template database; skipped only outside CI when unavailable."""
    server = PostgresServer(server_dir / "postgres")
    server.directory.mkdir()
    try:
        server.start()
    except Exception as exc:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL is not available here: {exc}")
    server.execute("CREATE DATABASE tabular_template")
    upgrade(server.url("tabular_template"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Path) -> tuple[Path, DemoData]:
    """The template with the demo organization seeded once: argon2 hashing four passwords per test adds up."""
    path = sqlite_template.with_name("demo-template.db")
    shutil.copyfile(sqlite_template, path)
    return path, asyncio.run(seed(f"sqlite+aiosqlite:///{path}"))


@pytest.fixture(scope="session")
def postgres_demo_template(postgres: PostgresServer) -> tuple[str, DemoData]:
    postgres.execute("CREATE DATABASE tabular_demo TEMPLATE tabular_template")
    return "tabular_demo", asyncio.run(seed(postgres.url("tabular_demo")))


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh database at the migrations' head, on each engine in turn; with the demo data if the test
    asks for `demo` (a copy of a database seeded once per session, so every test starts from the same state)."""
    with_demo = "demo" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "tabular.db"
        source = request.getfixturevalue("sqlite_demo_template")[0] if with_demo else sqlite_template
        shutil.copyfile(source, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    template = request.getfixturevalue("postgres_demo_template")[0] if with_demo else "tabular_template"
    name = f"t_{uuid.uuid4().hex}"
    server.execute(f'CREATE DATABASE "{name}" TEMPLATE {template}')
    yield server.url(name)
    server.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def demo(request: pytest.FixtureRequest, database_url: str) -> DemoData:
    """The demo data already in `database_url` (see there)."""
    engine = "sqlite" if database_url.startswith("sqlite") else "postgres"
    data: DemoData = request.getfixturevalue(f"{engine}_demo_template")[1]
    return data


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
