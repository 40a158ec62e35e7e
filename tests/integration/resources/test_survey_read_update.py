"""`GET` and `PATCH /api/surveys/{id}`: read with or without a slash; an update changes only what is sent, a
draft's questions only, and nothing of another workspace or tenant."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from tabular.db import Question
from tests.support.clients import demo_survey, fields_of, key, without_request_id, workspace
from tests.support.db import committed_session
from tests.support.resources import QUESTIONS, choice_question, create_survey

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


async def test_get_a_survey_with_and_without_a_trailing_slash(
    client: AsyncTestClient[Litestar], demo: DemoData, other_tenant: Tenant
) -> None:
    survey_id = demo_survey(demo, "Feature priorities")
    bearer = {"Authorization": f"Bearer {key(demo, 'member', 1)['X-API-Key']}"}
    plain = await client.get(f"/api/surveys/{survey_id}", headers=bearer)
    slashed = await client.get(f"/api/surveys/{survey_id}/", headers=bearer)
    assert plain.status_code == slashed.status_code == 200
    assert plain.json() == slashed.json()
    assert (plain.json()["id"], plain.json()["title"]) == (survey_id, "Feature priorities")
    assert len(plain.json()["questions"]) == 4

    foreign = other_tenant.survey_id
    other = await client.get(f"/api/surveys/{survey_id}", headers=key(demo, "member", 0))
    assert other.status_code == 403
    assert other.json()["code"] == "not_a_member"
    elsewhere = await client.get(f"/api/surveys/{foreign}", headers=key(demo, "admin"))
    missing = await client.get(f"/api/surveys/{uuid.uuid4()}", headers=key(demo, "admin"))
    assert elsewhere.status_code == missing.status_code == 404
    assert without_request_id(elsewhere) == without_request_id(missing)
    assert (await client.get("/api/surveys/not-a-uuid", headers=key(demo, "admin"))).status_code == 404


async def test_update_changes_only_what_is_sent(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    headers = key(demo, "member", 0)
    survey = await create_survey(client, headers, workspace(demo, 0))
    response = await client.patch(f"/api/surveys/{survey['id']}", json={"title": "Renamed"}, headers=headers)
    assert response.status_code == 200
    updated = response.json()
    assert updated["title"] == "Renamed"
    assert updated["description"] == survey["description"]
    assert updated["questions"] == survey["questions"]
    assert updated["updated_at"] >= survey["updated_at"]
    empty = await client.patch(f"/api/surveys/{survey['id']}", json={}, headers=headers)
    assert empty.status_code == 200
    assert empty.json()["title"] == "Renamed"


async def test_a_draft_s_questions_are_replaced(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    headers = key(demo, "member", 0)
    survey = await create_survey(client, headers, workspace(demo, 0))
    new = [{"kind": "rating", "text": "Rate the new list", "scale": 10}, QUESTIONS[0]]
    response = await client.patch(
        f"/api/surveys/{survey['id']}", json={"questions": new, "description": ""}, headers=headers
    )
    assert response.status_code == 200, response.text
    questions = response.json()["questions"]
    assert [(q["position"], q["kind"], q["text"]) for q in questions] == [
        (0, "rating", "Rate the new list"),
        (1, "single_choice", "Favourite colour?"),
    ]
    assert response.json()["description"] == ""
    assert response.json()["updated_at"] > survey["updated_at"]
    assert (await client.get(f"/api/surveys/{survey['id']}", headers=headers)).json() == response.json()

    async with committed_session(database_url) as session:
        stored = await session.scalar(select(func.count(Question.id)).where(Question.survey_id == survey["id"]))
    assert stored == 2


async def test_questions_of_a_published_or_closed_survey_are_fixed(
    client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    headers = key(demo, "admin")
    for title in ("Customer satisfaction 2026", "Beta exit survey"):
        survey_id = demo_survey(demo, title)
        response = await client.patch(
            f"/api/surveys/{survey_id}", json={"title": "Changed", "questions": QUESTIONS}, headers=headers
        )
        assert response.status_code == 409
        assert response.json()["code"] == "survey_not_draft"
        assert (await client.get(f"/api/surveys/{survey_id}", headers=headers)).json()["title"] == title
        retitled = await client.patch(f"/api/surveys/{survey_id}", json={"title": f"{title}!"}, headers=headers)
        assert retitled.status_code == 200
        assert retitled.json()["title"] == f"{title}!"


async def test_invalid_updates_are_422(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    survey_id = demo_survey(demo, "Onboarding feedback")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"description": None}, "description"),
        ({"questions": [{"kind": "rating", "text": "R", "scale": 0}]}, "questions[0].scale"),
        ({"questions": [choice_question(choices=["A", "A"])]}, "questions[0].choices[1]"),
        ({"questions": None}, "questions"),
    ]
    for body, field in cases:
        response = await client.patch(f"/api/surveys/{survey_id}", json=body, headers=key(demo, "member", 0))
        assert fields_of(response) == (422, [field]), body
    status = await client.patch(f"/api/surveys/{survey_id}", json={"status": "published"}, headers=key(demo, "admin"))
    assert status.status_code == 422
    assert "status" in status.json()["errors"][0]["message"]


async def test_update_in_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, other_tenant: Tenant
) -> None:
    foreign = other_tenant.survey_id
    headers = key(demo, "member", 1)
    draft = demo_survey(demo, "Onboarding feedback")
    assert (await client.patch(f"/api/surveys/{draft}", json={"title": "X"}, headers=headers)).status_code == 403
    assert (await client.patch(f"/api/surveys/{foreign}", json={"title": "X"}, headers=headers)).status_code == 404
