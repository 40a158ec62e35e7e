"""The warm path reads only what it returns: the guard's lookup loads the object, and nothing runs twice.

Counted with an engine event listener on the application's own engine (counts, not timings), on a warm
request: the caller's identity is cached and the key's last use already written this minute.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tests.support.clients import bearer, key, login, user, workspace
from tests.support.db import statements_run_by
from tests.support.resources import create_survey
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from litestar import Litestar

    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


def statements(app: Litestar) -> contextlib.AbstractContextManager[list[str]]:
    """The SQL statements the application's engine runs inside the block."""
    return statements_run_by(app.state.db_config.get_engine().sync_engine)


@pytest.fixture
async def warm(database_url: str, demo: DemoData) -> Any:
    """A client on an app that keeps identities cached for the test's length."""
    app = create_app(make_settings(database_url, auth_cache_ttl=60.0))
    async with AsyncTestClient(app=app) as client:
        yield app, client


async def settled(app: Litestar) -> None:
    """Wait (at most 5 s) for the background write of key uses, so it is not counted as the request's."""
    with anyio.fail_after(5):
        while not app.state.auth_engine.key_usage.settled:  # noqa: ASYNC110 - another loop's task, no event to share
            await anyio.sleep(0.05)


async def _count(app: Litestar, client: AsyncTestClient[Litestar], url: str, headers: dict[str, str]) -> list[str]:
    for _ in range(2):  # warm: identity cached, last use noted
        assert (await client.get(url, headers=headers)).status_code == 200
    await settled(app)  # the key's use is written off the request path: let that happen first
    with statements(app) as seen:
        response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return seen


async def test_a_survey_read_is_one_tenant_lookup_and_its_questions(warm: Any, demo: DemoData) -> None:
    app, client = warm
    headers = key(demo, "member")
    survey = await create_survey(client, headers, workspace(demo, 0))
    seen = await _count(app, client, f"/api/surveys/{survey['id']}", headers)
    assert len(seen) <= 2, seen
    assert sum("FROM survey " in statement for statement in seen) == 1, seen
    assert "FROM survey JOIN workspace ON" in seen[0], "the one lookup is restricted to the caller's organization"
    assert "FROM question" in seen[1]


@pytest.mark.parametrize("kind", ["dashboards", "reports"])
async def test_a_dashboard_or_report_read_is_one_statement(warm: Any, demo: DemoData, kind: str) -> None:
    app, client = warm
    headers = key(demo, "member")
    created = await client.post(f"/api/{kind}", params={"workspace_id": workspace(demo, 0)}, json={"name": "Counted"},
                                headers=headers)  # fmt: skip
    assert created.status_code == 201, created.text
    seen = await _count(app, client, f"/api/{kind}/{created.json()['id']}", headers)
    assert len(seen) == 1, seen


async def test_creating_a_survey_looks_the_workspace_up_once(warm: Any, demo: DemoData) -> None:
    app, client = warm
    headers = key(demo, "member")
    await create_survey(client, headers, workspace(demo, 0))  # warm
    with statements(app) as seen:
        await create_survey(client, headers, workspace(demo, 0))
    reads_of_workspaces = [s for s in seen if s.startswith("SELECT") and " workspace" in s]
    assert len(reads_of_workspaces) == 1, seen


async def test_who_am_i_reads_no_row_with_a_key_or_a_session(warm: Any, demo: DemoData) -> None:
    """Who-am-I shows names from the cached identity; the session's "not revoked" answer is cached too."""
    app, client = warm
    token = await login(client, user(demo, "member", 0))
    for headers in (key(demo, "member"), bearer(token)):
        assert await _count(app, client, "/api/auth", headers) == []


async def test_a_rename_reaches_who_am_i_at_once(warm: Any, demo: DemoData) -> None:
    _, client = warm
    member = key(demo, "member")
    before = (await client.get("/api/auth", headers=member)).json()["data"]
    renamed = await client.patch(f"/api/users/{before['user_id']}", json={"name": "Renamed Member"},
                                 headers=key(demo, "admin"))  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    assert (await client.get("/api/auth", headers=member)).json()["data"]["user_name"] == "Renamed Member"


async def test_key_uses_are_written_together_after_the_responses(warm: Any, demo: DemoData) -> None:
    """Three keys used in a row: no request writes, and one UPDATE records all three shortly after."""
    app, client = warm
    with statements(app) as seen:
        for role in ("admin", "member", "client"):
            assert (await client.get("/api/auth", headers=key(demo, role))).status_code == 200
        during = [statement for statement in seen if statement.startswith("UPDATE")]
        await settled(app)
    assert during == []
    writes = [statement for statement in seen if statement.startswith("UPDATE api_key")]
    assert len(writes) == 1, seen
