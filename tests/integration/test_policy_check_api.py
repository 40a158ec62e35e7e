"""`POST /api/policy/check`: it writes nothing, names the rule and the target, and answers the guard's other steps.

That it answers what the real request gets, for every declared route x role x credential x situation, is
checked by the route walk (`test_policy_walk.py`), which asks it before each request.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.db import Survey
from tabular.policies.document import document, to_json
from tabular.policies.inventory import declared_routes
from tabular.policies.matrix import Credential, Situation
from tabular.schemas.policy import MAX_CHECKS
from tabular.vocabulary import Reason, Role
from tests.support.clients import fields_of
from tests.support.db import every_row, open_database
from tests.support.policy_world import build_world
from tests.support.settings import make_settings

pytestmark = pytest.mark.anyio


async def test_checks_write_nothing(database_url: str) -> None:
    """A batch about every declared route, for a session, a read-only key and a revoked key, leaves every table
    (the audit log among them) as it was."""
    app = create_app(make_settings(database_url))
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        async with database.transaction() as session:
            world = await build_world(session)
            member = world.callers[Role.MEMBER]
            admin, _ = await world.credential(world.callers[Role.ADMIN], Credential.SESSION, None, app)
            read_only, _ = await world.key(member, read_only=True)
            revoked, _ = await world.key(member, revoked_at=dt.datetime.now(dt.UTC))
            checks = []
            for method, path, requirement in declared_routes(app):
                object_id, workspace = await world.place(requirement.locate_as, Situation.OWN_WORKSPACE, member)
                url = await world.url(path, requirement, object_id, workspace)
                subjects = [{"user_id": str(member.id)}, {"api_key_id": str(read_only.id)}]
                checks += [{"subject": subject, "method": method, "path": url} for subject in subjects]
            checks.append({"subject": {"api_key_id": str(revoked.id)}, "method": "GET", "path": "/api/surveys"})
        before = await every_row(database)
        for start in range(0, len(checks), MAX_CHECKS):
            answers = await client.post(
                "/api/policy/check/batch", json={"checks": checks[start : start + MAX_CHECKS]}, headers=admin
            )
            assert answers.status_code == 200, answers.text
        assert await every_row(database) == before
    last = answers.json()["results"][-1]
    assert (last["allowed"], last["status"], last["code"], last["rule"]) == (
        False,
        401,
        "api_key_revoked",
        "authentication",
    )


async def test_the_answer_names_the_rule_and_the_target(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        async with database.transaction() as session:
            world = await build_world(session)
            member = world.callers[Role.MEMBER]
            admin, _ = await world.credential(world.callers[Role.ADMIN], Credential.SESSION, None, app)
            elsewhere = await world.workspace(world.home)
            survey = await world.in_workspace(Survey, elsewhere)
        question = {"subject": {"email": member.email.upper()}, "method": "GET", "path": f"/api/surveys/{survey.id}"}
        answer = await client.post("/api/policy/check", json=question, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "allowed": False,
        "status": 403,
        "code": "not_a_member",
        "rule": "member.survey",
        "detail": Reason.NOT_A_MEMBER.message,
        "subject": {"user_id": str(member.id), "role": "member", "credential": "session", "api_key_id": None},
        "route": "GET /api/surveys/{survey_id:uuid}",
        "resource": "survey",
        "action": "read",
        "target": {
            "resource": "survey",
            "id": str(survey.id),
            "organization_id": str(world.home.id),
            "workspace_id": str(elsewhere.id),
            "owner_id": None,
        },
    }


async def test_subjects_of_other_organizations_are_not_found(database_url: str) -> None:
    """Another organization's user or key is refused as a nonexistent one is: a 404 naming the field."""
    app = create_app(make_settings(database_url))
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        async with database.transaction() as session:
            world = await build_world(session, roles=(Role.ADMIN,))
            admin, _ = await world.credential(world.callers[Role.ADMIN], Credential.SESSION, None, app)
            stranger = await world.someone_else(world.away)
            key, _ = await world.key(stranger)
        asked = [{"user_id": str(stranger.id)}, {"api_key_id": str(key.id)}, {"user_id": str(uuid.uuid4())}]
        answers = [
            await client.post("/api/policy/check", json={"subject": s, "method": "GET", "path": "/"}, headers=admin)
            for s in asked
        ]
        batch = {"checks": [{"subject": {"user_id": str(world.callers[Role.ADMIN].id)}, "method": "GET", "path": "/"},
                            {"subject": asked[1], "method": "GET", "path": "/"}]}  # fmt: skip
        in_batch = await client.post("/api/policy/check/batch", json=batch, headers=admin)
        too_many = await client.post("/api/policy/check/batch", json={"checks": batch["checks"] * 51}, headers=admin)
    assert [fields_of(answer) for answer in answers] == [
        (404, ["subject.user_id"]), (404, ["subject.api_key_id"]), (404, ["subject.user_id"])
    ]  # fmt: skip
    assert answers[0].json()["detail"] == answers[2].json()["detail"]
    assert fields_of(in_batch) == (404, ["checks[1].subject.api_key_id"])
    assert too_many.status_code == 422


async def test_get_policy_is_the_export(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        async with database.transaction() as session:
            world = await build_world(session, roles=(Role.ADMIN, Role.MEMBER))
            admin, _ = await world.credential(world.callers[Role.ADMIN], Credential.SESSION, None, app)
            member, _ = await world.credential(world.callers[Role.MEMBER], Credential.SESSION, None, app)
        exported = await client.get("/api/policy", headers=admin)
        refused = await client.get("/api/policy", headers=member)
    assert exported.json() == json.loads(to_json(document(declared_routes(app))))
    assert {"method": "POST", "path": "/api/policy/check", "resource": "policy", "action": "list"} in (
        exported.json()["routes"]
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "role_forbidden")


async def test_the_guards_other_steps_answer_as_the_request_does(database_url: str) -> None:
    """Routing (404, 405), a repeated or malformed parameter (400, 422), a public route, a refused credential."""
    app = create_app(make_settings(database_url))
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        async with database.transaction() as session:
            world = await build_world(session, roles=(Role.ADMIN, Role.MEMBER))
            member = world.callers[Role.MEMBER]
            workspace = await world.workspace(world.home, member)
            admin, _ = await world.credential(world.callers[Role.ADMIN], Credential.SESSION, None, app)
            headers, subject = await world.credential(member, Credential.SESSION, None, app)
            revoked, secret = await world.key(member, revoked_at=dt.datetime.now(dt.UTC))
        asked = [
            (headers, subject, "GET", "/api/surveys/not-a-uuid"),
            (headers, subject, "PUT", "/api/surveys"),
            (headers, subject, "GET", "/api/nothing-here"),
            (headers, subject, "GET", f"/api/surveys?workspace_id={workspace.id}&workspace_id={workspace.id}"),
            (headers, subject, "GET", "/api/surveys?workspace_id=nope"),
            (headers, subject, "POST", "/api/surveys"),
            (headers, subject, "GET", f"/api/surveys?workspace_id={workspace.id}"),
            ({"X-API-Key": secret}, {"api_key_id": str(revoked.id)}, "GET", "/api/surveys"),
            ({"X-API-Key": secret}, {"api_key_id": str(revoked.id)}, "GET", "/api/health"),
        ]
        said, got = [], []
        for credential, who, method, path in asked:
            question = {"subject": who, "method": method, "path": path}
            answer = (await client.post("/api/policy/check", json=question, headers=admin)).json()
            said.append((method, path, answer["status"], answer["code"]))
            response = await client.request(method, path, headers=credential)
            code = response.json().get("code", "allowed") if response.status_code >= 400 else "allowed"
            got.append((method, path, 200 if code == "allowed" else response.status_code, code))
    assert said == got
    assert [status for _, _, status, _ in said] == [404, 405, 404, 400, 422, 422, 200, 401, 200]
