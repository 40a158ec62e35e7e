"""Deleting a survey (its questions and responses go with it) and its lifecycle: draft, published, closed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from tabular.db import Answer, Question, Response
from tests.support.clients import demo_survey, fields_of, key, workspace
from tests.support.db import committed_session
from tests.support.resources import create_survey, titles

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


async def test_delete_takes_questions_and_responses_with_it(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")
    headers = key(demo, "member", 0)
    response = await client.delete(f"/api/surveys/{survey_id}", headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/surveys/{survey_id}", headers=headers)).status_code == 404
    assert (await client.delete(f"/api/surveys/{survey_id}", headers=headers)).status_code == 404

    async with committed_session(database_url) as session:
        responses = await session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey_id))
        questions = await session.scalar(select(func.count(Question.id)).where(Question.survey_id == survey_id))
        orphans = await session.scalar(
            select(func.count(Answer.id)).where(
                Answer.response_id.not_in(select(Response.id)) | Answer.question_id.not_in(select(Question.id))
            )
        )
    assert (responses, questions, orphans) == (0, 0, 0)
    remaining = (await client.get("/api/surveys", headers=key(demo, "admin"))).json()
    assert titles(remaining) == {survey.title for survey in demo.surveys} - {"Customer satisfaction 2026"}


async def test_delete_in_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, other_tenant: Tenant
) -> None:
    foreign = other_tenant.survey_id
    other = await client.delete(
        f"/api/surveys/{demo_survey(demo, 'Feature priorities')}", headers=key(demo, "member", 0)
    )
    assert other.status_code == 403
    assert (await client.delete(f"/api/surveys/{foreign}", headers=key(demo, "admin"))).status_code == 404
    assert (await client.get("/api/surveys", headers=key(demo, "admin"))).json()["total"] == 4


async def test_draft_to_published_to_closed_and_nothing_else(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    headers = key(demo, "member", 0)
    survey = await create_survey(client, headers, workspace(demo, 0))
    base = f"/api/surveys/{survey['id']}"

    closing_a_draft = await client.post(f"{base}/close", headers=headers)
    assert closing_a_draft.status_code == 409
    assert closing_a_draft.json()["code"] == "invalid_transition"

    published = await client.post(f"{base}/publish", headers=headers)
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    again = await client.post(f"{base}/publish", headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")

    closed = await client.post(f"{base}/close", headers=headers)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    for action in ("publish", "close"):
        response = await client.post(f"{base}/{action}", headers=headers)
        assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert (await client.get(base, headers=headers)).json()["status"] == "closed"


async def test_publishing_needs_a_question(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    headers = key(demo, "member", 0)
    survey = await create_survey(client, headers, workspace(demo, 0), questions=[])
    response = await client.post(f"/api/surveys/{survey['id']}/publish", headers=headers)
    assert fields_of(response) == (422, ["questions"])
    assert (await client.get(f"/api/surveys/{survey['id']}", headers=headers)).json()["status"] == "draft"


async def test_lifecycle_in_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, other_tenant: Tenant
) -> None:
    foreign = other_tenant.survey_id
    draft = demo_survey(demo, "Onboarding feedback")  # workspace 1; the second member is in workspace 2
    assert (await client.post(f"/api/surveys/{draft}/publish", headers=key(demo, "member", 1))).status_code == 403
    assert (await client.post(f"/api/surveys/{foreign}/close", headers=key(demo, "admin"))).status_code == 404
