"""`GET /api/public/surveys/{id}`: anyone reads a published survey's questions, and nothing about its people."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.support.clients import Client, assert_problem, demo_survey, key, ok, without_request_id, workspace
from tests.support.resources import QUESTIONS, answer_survey, create_survey

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def test_anyone_reads_a_published_survey_and_answers_it_by_the_ids_it_gives(
    client: Client, demo: DemoData
) -> None:
    member = key(demo, "member", 0)
    survey = await create_survey(client, member, workspace(demo, 0), publish=True)

    public = await client.get(f"/api/public/surveys/{survey['id']}")  # no credentials

    form = ok(public)
    assert set(form) == {"title", "description", "questions"}
    assert (form["title"], form["description"]) == ("Pets and colours", "A test survey.")
    assert [question["text"] for question in form["questions"]] == [question["text"] for question in QUESTIONS]
    assert set(form["questions"][0]) == {"id", "kind", "text", "required", "choices", "scale"}
    assert form["questions"][1] | {"id": None} == {
        "id": None,
        "kind": "multiple_choice",
        "text": "Which pets do you have?",
        "required": False,
        "choices": ["Cat", "Dog", "Fish"],
        "scale": None,
    }
    await answer_survey(client, form | {"id": survey["id"]})


async def test_the_public_view_names_no_person_workspace_or_organization(client: Client, demo: DemoData) -> None:
    member = key(demo, "member", 0)
    survey = await create_survey(client, member, workspace(demo, 0), publish=True)
    who = ok(await client.get("/api/auth", headers=member))["data"]

    body = (await client.get(f"/api/public/surveys/{survey['id']}")).text

    assert survey["created_by_id"] == who["user_id"]
    secrets = [who["user_id"], who["organization_id"], workspace(demo, 0), demo.workspaces[0].name, survey["id"]]
    assert [secret for secret in secrets if str(secret) in body] == []
    assert "status" not in body
    assert "created" not in body


async def test_drafts_and_unknown_surveys_are_404_and_closed_ones_409_as_for_a_submission(
    client: Client, demo: DemoData
) -> None:
    draft, closed = demo_survey(demo, "Onboarding feedback"), demo_survey(demo, "Beta exit survey")
    missing = str(uuid.uuid4())
    for survey_id in (draft, missing):
        read = await client.get(f"/api/public/surveys/{survey_id}")
        submitted = await client.post(f"/api/public/surveys/{survey_id}/responses", json={"answers": []})
        assert_problem(read, 404, "not_found")
        assert without_request_id(read) == without_request_id(submitted)
    read = await client.get(f"/api/public/surveys/{closed}")
    submitted = await client.post(f"/api/public/surveys/{closed}/responses", json={"answers": []})
    assert_problem(read, 409, "survey_closed")
    assert without_request_id(read) == without_request_id(submitted)
    assert (await client.get("/api/public/surveys/not-a-uuid")).status_code == 404


async def test_reading_is_limited_per_client_ip_like_every_anonymous_request(client: Client, demo: DemoData) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")
    first = await client.get(f"/api/public/surveys/{survey_id}")
    second = await client.get(f"/api/public/surveys/{survey_id}")
    assert first.status_code == second.status_code == 200
    assert first.headers["RateLimit-Policy"].startswith('"general"')
    assert int(second.headers["RateLimit-Remaining"]) == int(first.headers["RateLimit-Remaining"]) - 1
