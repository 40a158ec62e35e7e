"""Attack: insecure direct object reference across tenants: a user of one organization sends another's ids.

An admin of organization A (the widest role, with a session and with a key) names objects of organization
B: on every route that takes an id, in the path or as `?workspace_id=` (from the start-up inventory, so a
new route is covered without touching this file), and in the bodies and second path ids that name other
objects. Each is a 404 problem (or, for an id inside a body, the documented 422), says nothing about the
object, and writes nothing anywhere: every row of the database is the same after the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.db import Survey
from tabular.db.audit import AuditEventType
from tabular.policies.inventory import declared_routes
from tabular.policies.matrix import Situation
from tabular.vocabulary import Role
from tests.support.db import every_row, open_database
from tests.support.factories import new_audit_event, new_dashboard, new_report
from tests.support.policy_world import World, bodies_for_routes, build_world
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from httpx import Response
    from litestar import Litestar

    from tests.support.clients import Client
    from tests.support.db import Database

pytestmark = pytest.mark.anyio

NOT_FOUND = {(404, "not_found")}
INVALID = {(422, "validation_failed")}
OFF_THE_REQUEST_PATH = ("api_key.last_used_at",)
"""Written about a second after a key is used, whatever it was used for."""


@dataclass(frozen=True)
class Attempt:
    method: str
    url: str
    body: Any
    foreign_ids: tuple[str, ...]
    """Ids of organization B the request names: none may come back."""
    field: str | None = None
    """Where the foreign id is in the body: a 422 must point there (and not at some other mistake)."""


async def _credentials(app: Litestar, world: World) -> dict[str, dict[str, str]]:
    """The admin of organization A, with a session and with a key of their own."""
    admin = world.callers[Role.ADMIN]
    session = app.state.auth_engine.tokens.issue(admin.id, admin.token_version, mfa_verified=True)
    _, secret = await world.key(admin)
    return {"session": {"Authorization": f"Bearer {session.token}"}, "key": {"X-API-Key": secret}}


def _refusal(response: Response) -> tuple[int, str | None]:
    """The status and code of an answer; the code only of a problem document."""
    problem = response.headers.get("content-type", "").startswith("application/problem+json")
    return response.status_code, response.json()["code"] if problem else None


async def _try(
    client: Client, database: Database, attempt: Attempt, headers: dict[str, str], expected: set[tuple[int, str]]
) -> list[str]:
    """The request, made once: what is wrong with its answer (not one of `expected`, or naming one of B's ids)
    and with the database after it (anything written)."""
    where = f"{attempt.method} {attempt.url}"
    before = await every_row(database, ignore=OFF_THE_REQUEST_PATH)
    response = await client.request(attempt.method, attempt.url, headers=headers, json=attempt.body)
    mistakes = []
    if _refusal(response) not in expected:
        mistakes.append(f"{where}: {response.status_code} {response.text[:300]}, wanted one of {expected}")
    elif response.status_code == 422 and attempt.field not in [e.get("field") for e in response.json()["errors"]]:
        mistakes.append(f"{where}: refused, but not for {attempt.field}: {response.text[:300]}")
    if leaked := [foreign for foreign in attempt.foreign_ids if foreign in response.text]:
        mistakes.append(f"{where}: the answer names {leaked}")
    if await every_row(database, ignore=OFF_THE_REQUEST_PATH) != before:
        mistakes.append(f"{where}: wrote to the database")
    return mistakes


async def test_every_id_taking_route_answers_another_organizations_ids_as_missing(database_url: str) -> None:
    """A session gets the 404 of a missing object; a key the same answer as for an id that exists nowhere
    (a key may not rotate keys, say: a 403 decided before anything is looked up)."""
    app = create_app(make_settings(database_url))
    bodies = bodies_for_routes()
    mistakes: list[str] = []
    checked = 0
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        for method, path, requirement in declared_routes(app):
            if not requirement.locates:
                continue
            async with database.transaction() as session:
                world = await build_world(session, roles=(Role.ADMIN,))
                admin = world.callers[Role.ADMIN]
                foreign_id, workspace = await world.place(requirement.locate_as, Situation.OTHER_ORGANIZATION, admin)
                assert workspace is not None
                assert workspace.organization_id == world.away.id
                url = await world.url(path, requirement, foreign_id, workspace)
                missing_url = await world.url(path, requirement, None, None)
                credentials = await _credentials(app, world)
            body = bodies.get(f"{method} {path}")
            foreign = tuple(str(value) for value in (foreign_id, workspace.id) if value is not None)
            for name, headers in credentials.items():
                missing = _refusal(await client.request(method, missing_url, headers=headers, json=body))
                if name == "session" and missing != (404, "not_found"):
                    mistakes.append(f"{method} {missing_url}: a missing object is {missing}, not a 404")
                mistakes += await _try(client, database, Attempt(method, url, body, foreign), headers, {missing})
                checked += 1
    assert mistakes == []
    assert checked >= 2 * 25, "the inventory lists the routes that take an id"


async def _second_ids(world: World) -> tuple[list[tuple[Attempt, set[tuple[int, str]]]], str]:
    """Requests on A's own objects (which the guard allows) that name B's objects inside, with the answer
    each must get (404 or 422); and the id of B's user, who has an event in B's audit trail."""
    admin = world.callers[Role.ADMIN]
    home = await world.workspace(world.home, admin)
    outsider = await world.user(world.away)
    away = await world.workspace(world.away, outsider)
    away_survey = await world.in_workspace(Survey, away)
    home_survey = await world.in_workspace(Survey, home)
    dashboard, report = await new_dashboard(world.session, home), await new_report(world.session, home)
    await new_audit_event(world.session, AuditEventType.WORKSPACE_CREATED, world.away, outsider)
    await world.session.refresh(away_survey, attribute_names=["questions"])
    away_question = str(away_survey.questions[0].id)
    user, ws, survey = str(outsider.id), str(away.id), str(away_survey.id)
    invited = {"email": "invited@example.test", "name": "Invited", "role": "member", "workspace_ids": [ws]}
    listing, relisting = {"name": "X", "survey_ids": [survey]}, {"survey_ids": [survey]}
    answered = "answers[0].question_id"
    answer = {"answers": [{"question_id": away_question, "choice": "a"}]}
    return [
        (Attempt("POST", f"/api/workspaces/{home.id}/members", {"user_id": user}, (user,)), NOT_FOUND),
        (Attempt("DELETE", f"/api/workspaces/{home.id}/members/{user}", None, (user,)), NOT_FOUND),
        (Attempt("POST", f"/api/dashboards?workspace_id={home.id}", listing, (survey,), "survey_ids[0]"), INVALID),
        (Attempt("PATCH", f"/api/dashboards/{dashboard.id}", relisting, (survey,), "survey_ids[0]"), INVALID),
        (Attempt("POST", f"/api/reports?workspace_id={home.id}", listing, (survey,), "survey_ids[0]"), INVALID),
        (Attempt("PATCH", f"/api/reports/{report.id}", relisting, (survey,), "survey_ids[0]"), INVALID),
        (Attempt("POST", "/api/users", invited, (ws,), "workspace_ids[0]"), INVALID),
        (Attempt("POST", "/api/keys", {"name": "pinned away", "workspace_id": ws}, (ws,), "workspace_id"), INVALID),
        (Attempt("POST", f"/api/surveys/{home_survey.id}/responses", answer, (away_question,), answered), INVALID),
    ], user  # fmt: skip


async def test_ids_of_another_organization_inside_a_request_are_refused(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    mistakes: list[str] = []
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        async with database.transaction() as session:
            world = await build_world(session, roles=(Role.ADMIN,))
            attempts, outsider = await _second_ids(world)
            headers = (await _credentials(app, world))["session"]  # keys may not create keys: a session does all
        for attempt, expected in attempts:
            mistakes += await _try(client, database, attempt, headers, expected)
        events = await client.get("/api/audit", params={"actor_id": outsider}, headers=headers)
    assert mistakes == []
    assert (events.status_code, events.json()["items"]) == (200, []), "a filter by B's user finds none of B's events"
