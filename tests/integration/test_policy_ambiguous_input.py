"""Ambiguous input is refused before any decision, on every route that names a workspace or an object.

The routes come from the app's inventory, not from a list here. For each, as a member, a key pinned to
the member's workspace, a read-only key and another organization's admin, the attacks an outside audit
used — a repeated `workspace_id`, an empty first value, a foreign or random id in second position —
must each be a 400 `duplicate_parameter`, and the database must be exactly as before: nothing created,
changed or deleted, in any organization.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from tabular.app import create_app
from tabular.db.base import Base
from tabular.policies.inventory import declared_routes
from tabular.policies.matrix import Situation
from tabular.vocabulary import Role
from tests.support.db import Database, open_database
from tests.support.policy_world import bodies_for_routes, build_world, in_new_world
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from tabular.db import Workspace
    from tabular.policies.requirements import Requirement
    from tests.support.policy_world import World

pytestmark = pytest.mark.anyio

BOOKKEEPING = {("api_key", "last_used_at")}
"""Columns any request may write, whatever it asks for (a key's last use): left out of the fingerprint."""


async def fingerprint(database: Database) -> dict[str, str]:
    """A digest of every row of each table: equal digests, nothing was acted on."""
    digests: dict[str, str] = {}
    async with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            columns = [column for column in table.columns if (table.name, column.name) not in BOOKKEEPING]
            rows = await session.execute(select(*columns))
            digests[table.name] = hashlib.sha256(repr(sorted(map(repr, rows.all()))).encode()).hexdigest()
    return digests


async def test_repeated_scalar_parameters_are_refused_and_act_on_nothing(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    routes = [
        (method, path, requirement)
        for method, path, requirement in declared_routes(app)
        if requirement.by is not None or requirement.workspace_query is not None
    ]
    assert {"POST /api/surveys", "POST /api/reports", "GET /api/dashboards"} <= {f"{m} {p}" for m, p, _ in routes}
    bodies = bodies_for_routes()
    checked = 0
    async with open_database(database_url) as database:
        async with database.transaction() as session:
            world = await build_world(session)
            member = world.callers[Role.MEMBER]
            own = await world.workspace(world.home, member)
            other = await world.workspace(world.home)
            foreign = await world.workspace(world.away, await world.someone_else(world.away))
            callers = await _callers(world, own)
            objects = {
                (method, path): await _object_id(world, requirement, own, member)
                for method, path, requirement in routes
                if requirement.by is not None
            }
        attacks = {
            "repeated": [own.id, other.id],
            "empty first": ["", other.id],
            "foreign second": [own.id, foreign.id],
            "random second": [own.id, uuid.uuid4()],
        }
        async with AsyncTestClient(app) as client:
            before = await fingerprint(database)
            for method, path, requirement in routes:
                url = path.replace(f"{{{requirement.by}:uuid}}", str(objects.get((method, path))))
                url = url.replace("{user_id:uuid}", str(member.id))  # removing a member: the member
                for caller, headers in callers.items():
                    for attack, values in attacks.items():
                        query = [("workspace_id", str(value)) for value in values]
                        response = await client.request(
                            method, url, params=query, headers=headers, json=bodies.get(f"{method} {path}")
                        )
                        where = f"{method} {path} as {caller}, {attack}"
                        assert response.status_code == 400, f"{where}: {response.status_code} {response.text}"
                        assert response.json()["code"] == "duplicate_parameter", where
                        assert response.json()["errors"] == [
                            {"message": "sent more than once", "field": "workspace_id", "source": "query"}
                        ], where
                        checked += 1
            assert await fingerprint(database) == before, "a refused request changed the database"
    assert checked == len(routes) * len(callers) * len(attacks)


async def _callers(world: World, own: Workspace) -> dict[str, dict[str, str]]:
    member = world.callers[Role.MEMBER]
    foreign_admin = await world.user(world.away, Role.ADMIN)
    _, full = await world.key(member)
    _, pinned = await world.key(member, workspace_id=own.id)
    _, read_only = await world.key(member, read_only=True)
    _, foreign = await world.key(foreign_admin)
    return {
        "member": {"X-API-Key": full},
        "pinned key": {"X-API-Key": pinned},
        "read-only key": {"X-API-Key": read_only},
        "another organization's admin": {"X-API-Key": foreign},
    }


async def _object_id(world: World, requirement: Requirement, own: Workspace, member: Any) -> str | None:
    """An object the member may reach, so only the ambiguity can refuse the request."""
    object_id, _ = await world.place(requirement.locate_as, Situation.OWN_WORKSPACE, member)
    if requirement.locate_as.value == "workspace":
        return str(own.id)
    return object_id


async def test_an_empty_workspace_id_is_invalid_not_absent(database_url: str) -> None:
    """`?workspace_id=` alone is a 422 naming the parameter: never read as "every workspace"."""
    app = create_app(make_settings(database_url))
    _, secret = await in_new_world(database_url, lambda world: world.key(world.callers[Role.MEMBER]))
    async with AsyncTestClient(app) as client:
        for method, path, requirement in declared_routes(app):
            if requirement.workspace_query is None:
                continue
            response = await client.request(
                method, path + "?workspace_id=", headers={"X-API-Key": secret}, json={"name": "x"}
            )
            assert response.status_code == 422, f"{method} {path}: {response.text}"
            assert response.json()["errors"] == [
                {"message": "must be a UUID", "field": "workspace_id", "source": "query"}
            ]


async def test_any_repeated_query_parameter_is_a_400_on_any_route(client: AsyncTestClient[Any]) -> None:
    """From one place, before authentication decides anything: public routes and anonymous callers too."""
    for url in ("/api/health?probe=1&probe=2", "/api/surveys?limit=1&limit=2", "/api/auth?x=&x="):
        response = await client.get(url)
        assert response.status_code == 400, url
        body = response.json()
        assert body["code"] == "duplicate_parameter"
        assert body["errors"][0]["source"] == "query"
        assert response.headers["content-type"] == "application/problem+json"


async def test_who_may_never_act_is_refused_before_the_workspace_id_is_read(database_url: str) -> None:
    """A client creating a survey, or a read-only key creating a report, hears 403 however the id is written."""
    app = create_app(make_settings(database_url))

    async def keys(world: World) -> tuple[str, str]:
        _, client_key = await world.key(world.callers[Role.CLIENT])
        _, read_only = await world.key(world.callers[Role.MEMBER], read_only=True)
        return client_key, read_only

    client_key, read_only = await in_new_world(database_url, keys)
    async with AsyncTestClient(app) as client:
        for path, secret, code in (("/api/surveys", client_key, "role_forbidden"),
                                   ("/api/reports", read_only, "read_only_key")):  # fmt: skip
            for query in ("", "?workspace_id=", "?workspace_id=not-an-id"):
                response = await client.post(path + query, headers={"X-API-Key": secret}, json={"name": "x"})
                assert (response.status_code, response.json()["code"]) == (403, code), path + query
