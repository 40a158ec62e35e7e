"""`/api/surveys`: list with filters and pages, create with its validation, read, update, delete, lifecycle.

Seeding the demo organization dominates each test's time, so related cases share one test and report every
mismatch together.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event, func, select

from tabular.db import Answer, Question, Response
from tests.integration.resources.helpers import (
    QUESTIONS,
    create_survey,
    demo_survey,
    fields_of,
    foreign_survey,
    in_database,
    key,
    workspace,
)

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio

DEMO_TITLES = {"Customer satisfaction 2026", "Onboarding feedback", "Feature priorities", "Beta exit survey"}


def titles(body: dict[str, Any]) -> set[str]:
    return {item["title"] for item in body["items"]}


def question(**fields: Any) -> dict[str, Any]:
    return {"kind": "single_choice", "text": "Pick one", "choices": ["A", "B"]} | fields


# --- list --------------------------------------------------------------------------------------------


async def test_admin_lists_every_survey_of_the_organization(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    response = await client.get("/api/surveys", headers=key(demo, "admin"))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 4
    assert (body["limit"], body["offset"]) == (50, 0)
    assert titles(body) == DEMO_TITLES
    first = next(item for item in body["items"] if item["title"] == "Customer satisfaction 2026")
    assert first["status"] == "published"
    assert first["workspace_id"] == workspace(demo, 0)
    assert [question["kind"] for question in first["questions"]] == [
        "rating",
        "single_choice",
        "multiple_choice",
        "text",
    ]
    assert first["questions"][0]["scale"] == 5
    assert first["questions"][1]["choices"] == ["Search", "A colleague", "Conference", "Other"]
    assert first["created_at"].endswith("Z")

    bearer = {"Authorization": f"Bearer {key(demo, 'admin')['X-API-Key']}"}
    with_slash = await client.get("/api/surveys/", headers=bearer)
    assert with_slash.status_code == 200
    assert with_slash.json() == body


async def test_a_member_lists_only_their_workspaces_and_a_client_nothing(
    client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    response = await client.get("/api/surveys", headers=key(demo, "member", 0))
    assert response.status_code == 200
    assert titles(response.json()) == {"Customer satisfaction 2026", "Onboarding feedback"}
    assert {item["workspace_id"] for item in response.json()["items"]} == {workspace(demo, 0)}
    refused = await client.get("/api/surveys", headers=key(demo, "client"))
    assert refused.status_code == 403


async def test_list_filters(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"status": "published"}, {"Customer satisfaction 2026", "Feature priorities"}),
        ({"status": "closed"}, {"Beta exit survey"}),
        ({"workspace_id": workspace(demo, 1)}, {"Feature priorities", "Beta exit survey"}),
        ({"workspace_id": workspace(demo, 0), "status": "draft"}, {"Onboarding feedback"}),
        ({"workspace_id": workspace(demo, 1), "status": "draft"}, set()),
    ]
    for params, expected in cases:
        response = await client.get("/api/surveys", params=params, headers=key(demo, "admin"))
        assert response.status_code == 200, params
        assert titles(response.json()) == expected, params
        assert response.json()["total"] == len(expected), params
    member = await client.get("/api/surveys", params={"status": "published"}, headers=key(demo, "member", 1))
    assert titles(member.json()) == {"Feature priorities"}
    unknown = await client.get("/api/surveys", params={"status": "archived"}, headers=key(demo, "admin"))
    assert fields_of(unknown) == (422, ["status"])


async def test_pages_are_consistent_and_limits_are_enforced(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    headers = key(demo, "admin")
    seen: list[str] = []
    for offset in range(5):
        response = await client.get("/api/surveys", params={"limit": 1, "offset": offset}, headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["total"], body["limit"], body["offset"]) == (4, 1, offset)
        assert len(body["items"]) == (1 if offset < 4 else 0)
        seen += [item["id"] for item in body["items"]]
    assert len(seen) == len(set(seen)) == 4
    everything = (await client.get("/api/surveys", params={"limit": 200}, headers=headers)).json()
    assert [item["id"] for item in everything["items"]] == seen  # one stable order, newest first
    for params, field in [({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"offset": -1}, "offset")]:
        assert fields_of(await client.get("/api/surveys", params=params, headers=headers)) == (422, [field]), params


async def test_listing_costs_the_same_queries_whatever_the_page_size(
    app: Litestar, client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    """No N+1: one count, one page, one query for all the page's questions (plus authentication)."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = app.state.db_config.get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        selects = []
        for limit in (1, 4):
            statements.clear()
            response = await client.get("/api/surveys", params={"limit": limit}, headers=key(demo, "admin"))
            assert len(response.json()["items"]) == limit
            selects.append(sum(sql.lstrip().upper().startswith("SELECT") for sql in statements))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert selects[0] == selects[1]


async def test_list_scoped_to_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    _, foreign_workspace = await foreign_survey(database_url)
    headers = key(demo, "member", 0)
    other = await client.get("/api/surveys", params={"workspace_id": workspace(demo, 1)}, headers=headers)
    assert other.status_code == 403
    assert other.json()["code"] == "not_a_member"
    elsewhere = await client.get("/api/surveys", params={"workspace_id": foreign_workspace}, headers=headers)
    missing = await client.get("/api/surveys", params={"workspace_id": str(uuid.uuid4())}, headers=headers)
    assert elsewhere.status_code == missing.status_code == 404
    assert elsewhere.json() == missing.json()
    admin = await client.get("/api/surveys", headers=key(demo, "admin"))
    assert "Someone else's survey" not in titles(admin.json())


# --- create ------------------------------------------------------------------------------------------


async def test_create_a_survey_with_every_kind_of_question(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    survey = await create_survey(client, key(demo, "member", 0), workspace(demo, 0))
    assert survey["status"] == "draft"
    assert survey["workspace_id"] == workspace(demo, 0)
    assert (survey["title"], survey["description"]) == ("Pets and colours", "A test survey.")
    assert survey["created_by_id"]
    questions = survey["questions"]
    assert [(q["position"], q["kind"], q["text"], q["required"]) for q in questions] == [
        (i, q["kind"], q["text"], q.get("required", False)) for i, q in enumerate(QUESTIONS)
    ]
    assert [(q["choices"], q["scale"]) for q in questions] == [
        (["Red", "Green", "Blue"], None),
        (["Cat", "Dog", "Fish"], None),
        (None, 5),
        (None, None),
    ]
    assert dt.datetime.fromisoformat(survey["created_at"]).utcoffset() == dt.timedelta(0)
    fetched = await client.get(f"/api/surveys/{survey['id']}", headers=key(demo, "admin"))
    assert fetched.json() == survey

    minimal = await client.post(
        "/api/surveys", params={"workspace_id": workspace(demo, 1)}, json={"title": "T"}, headers=key(demo, "admin")
    )
    assert minimal.status_code == 201
    assert (minimal.json()["description"], minimal.json()["questions"]) == ("", [])


INVALID_SURVEYS: list[tuple[str, dict[str, Any], str]] = [
    ("missing kind", {"questions": [{"text": "No kind", "choices": ["A"]}]}, "questions[0]"),
    ("unknown kind", {"questions": [question(kind="ranking")]}, "questions[0].kind"),
    ("scale on a choice question", {"questions": [question(scale=5)]}, "questions[0]"),
    ("rating with choices", {"questions": [{"kind": "rating", "text": "R", "choices": ["A"]}]}, "questions[0]"),
    ("rating without scale", {"questions": [{"kind": "rating", "text": "R"}]}, "questions[0]"),
    ("no choices", {"questions": [question(choices=[])]}, "questions[0].choices"),
    ("choices missing", {"questions": [{"kind": "multiple_choice", "text": "M"}]}, "questions[0]"),
    ("51 choices", {"questions": [question(choices=[f"c{i}" for i in range(51)])]}, "questions[0].choices"),
    ("empty choice", {"questions": [question(choices=["A", ""])]}, "questions[0].choices[1]"),
    ("201-character choice", {"questions": [question(choices=["A", "x" * 201])]}, "questions[0].choices[1]"),
    ("duplicate choice", {"questions": [question(choices=["A", "B", "A"])]}, "questions[0].choices[2]"),
    ("blank choice", {"questions": [question(choices=["A", "   "])]}, "questions[0].choices[1]"),
    ("choices not a list", {"questions": [question(choices="A")]}, "questions[0].choices"),
    ("number as choice", {"questions": [question(kind="multiple_choice", choices=[1, 2])]}, "questions[0].choices[0]"),
    ("scale 1", {"questions": [{"kind": "rating", "text": "R", "scale": 1}]}, "questions[0].scale"),
    ("scale 11", {"questions": [{"kind": "rating", "text": "R", "scale": 11}]}, "questions[0].scale"),
    ("scale a word", {"questions": [{"kind": "rating", "text": "R", "scale": "five"}]}, "questions[0].scale"),
    ("scale fractional", {"questions": [{"kind": "rating", "text": "R", "scale": 5.5}]}, "questions[0].scale"),
    ("empty question text", {"questions": [{"kind": "text", "text": ""}]}, "questions[0].text"),
    ("question text missing", {"questions": [{"kind": "text"}]}, "questions[0]"),
    ("required not a bool", {"questions": [{"kind": "text", "text": "Q", "required": "yes"}]}, "questions[0].required"),
    ("unknown question field", {"questions": [{"kind": "text", "text": "Q", "hint": "h"}]}, "questions[0]"),
    ("NUL in question text", {"questions": [question(), {"kind": "text", "text": "a\x00b"}]}, "questions[1].text"),
    ("question not an object", {"questions": ["What?"]}, "questions[0]"),
    ("questions not a list", {"questions": {"kind": "text", "text": "Q"}}, "questions"),
    ("empty title", {"title": ""}, "title"),
    ("201-character title", {"title": "x" * 201}, "title"),
    ("blank title", {"title": "   "}, "title"),
    ("line break in title", {"title": "line\nbreak"}, "title"),
    ("NUL in description", {"description": "x\x00"}, "description"),
]


async def test_invalid_surveys_are_422_with_the_offending_field(
    client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    mismatches = []
    for name, change, field in INVALID_SURVEYS:
        body = {"title": "A survey", "questions": [question()]} | change
        response = await client.post(
            "/api/surveys", params={"workspace_id": workspace(demo, 0)}, json=body, headers=key(demo, "member", 0)
        )
        if fields_of(response) != (422, [field]) or response.json().get("code") != "validation_failed":
            mismatches.append((name, response.status_code, response.text))
    assert not mismatches
    # Top-level errors name the body parameter ("data") as the field; the message names the JSON field.
    for body, name in [({"title": "T", "colour": "red"}, "colour"), ({"questions": []}, "title")]:
        response = await client.post(
            "/api/surveys", params={"workspace_id": workspace(demo, 0)}, json=body, headers=key(demo, "member", 0)
        )
        assert response.status_code == 422, body
        assert f"`{name}`" in response.json()["errors"][0]["message"], body
    listed = await client.get("/api/surveys", params={"workspace_id": workspace(demo, 0)}, headers=key(demo, "admin"))
    assert listed.json()["total"] == 2  # nothing was created


async def test_every_problem_of_a_survey_is_reported_at_once(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    body = {
        "title": " ",
        "questions": [question(choices=["A", "A"]), {"kind": "text", "text": "ok"}, question(choices=["B", "B", "B"])],
    }
    response = await client.post(
        "/api/surveys", params={"workspace_id": workspace(demo, 0)}, json=body, headers=key(demo, "admin")
    )
    assert fields_of(response) == (
        422,
        ["title", "questions[0].choices[1]", "questions[2].choices[1]", "questions[2].choices[2]"],
    )
    assert all(error["source"] == "body" for error in response.json()["errors"])


async def test_create_needs_a_workspace_of_the_caller(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    _, foreign_workspace = await foreign_survey(database_url)
    headers = key(demo, "member", 0)
    missing = await client.post("/api/surveys", json={"title": "T"}, headers=headers)
    assert fields_of(missing) == (422, ["workspace_id"])
    malformed = await client.post("/api/surveys", params={"workspace_id": "x"}, json={"title": "T"}, headers=headers)
    assert fields_of(malformed) == (422, ["workspace_id"])
    other = await client.post(
        "/api/surveys", params={"workspace_id": workspace(demo, 1)}, json={"title": "T"}, headers=headers
    )
    assert other.status_code == 403
    elsewhere = await client.post(
        "/api/surveys", params={"workspace_id": foreign_workspace}, json={"title": "T"}, headers=headers
    )
    assert elsewhere.status_code == 404
    not_an_object = await client.post(
        "/api/surveys", params={"workspace_id": workspace(demo, 0)}, json=["T"], headers=headers
    )
    assert 400 <= not_an_object.status_code < 500


# --- read --------------------------------------------------------------------------------------------


async def test_get_a_survey_with_and_without_a_trailing_slash(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    survey_id = demo_survey(demo, "Feature priorities")
    bearer = {"Authorization": f"Bearer {key(demo, 'member', 1)['X-API-Key']}"}
    plain = await client.get(f"/api/surveys/{survey_id}", headers=bearer)
    slashed = await client.get(f"/api/surveys/{survey_id}/", headers=bearer)
    assert plain.status_code == slashed.status_code == 200
    assert plain.json() == slashed.json()
    assert (plain.json()["id"], plain.json()["title"]) == (survey_id, "Feature priorities")
    assert len(plain.json()["questions"]) == 4

    foreign, _ = await foreign_survey(database_url)
    other = await client.get(f"/api/surveys/{survey_id}", headers=key(demo, "member", 0))
    assert other.status_code == 403
    assert other.json()["code"] == "not_a_member"
    elsewhere = await client.get(f"/api/surveys/{foreign}", headers=key(demo, "admin"))
    missing = await client.get(f"/api/surveys/{uuid.uuid4()}", headers=key(demo, "admin"))
    assert elsewhere.status_code == missing.status_code == 404
    assert elsewhere.json() == missing.json()
    assert (await client.get("/api/surveys/not-a-uuid", headers=key(demo, "admin"))).status_code == 404


# --- update ------------------------------------------------------------------------------------------


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

    async def stored(session: AsyncSession) -> int:
        count = await session.scalar(select(func.count(Question.id)).where(Question.survey_id == survey["id"]))
        return int(count or 0)

    assert await in_database(database_url, stored) == 2


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
        ({"questions": [question(choices=["A", "A"])]}, "questions[0].choices[1]"),
        ({"questions": None}, "questions"),
    ]
    for body, field in cases:
        response = await client.patch(f"/api/surveys/{survey_id}", json=body, headers=key(demo, "member", 0))
        assert fields_of(response) == (422, [field]), body
    status = await client.patch(f"/api/surveys/{survey_id}", json={"status": "published"}, headers=key(demo, "admin"))
    assert status.status_code == 422
    assert "status" in status.json()["errors"][0]["message"]


async def test_update_in_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    foreign, _ = await foreign_survey(database_url)
    headers = key(demo, "member", 1)
    draft = demo_survey(demo, "Onboarding feedback")
    assert (await client.patch(f"/api/surveys/{draft}", json={"title": "X"}, headers=headers)).status_code == 403
    assert (await client.patch(f"/api/surveys/{foreign}", json={"title": "X"}, headers=headers)).status_code == 404


# --- delete ------------------------------------------------------------------------------------------


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

    async def leftovers(session: AsyncSession) -> tuple[int, int, int]:
        responses = await session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey_id))
        questions = await session.scalar(select(func.count(Question.id)).where(Question.survey_id == survey_id))
        orphans = await session.scalar(
            select(func.count(Answer.id)).where(
                Answer.response_id.not_in(select(Response.id)) | Answer.question_id.not_in(select(Question.id))
            )
        )
        return int(responses or 0), int(questions or 0), int(orphans or 0)

    assert await in_database(database_url, leftovers) == (0, 0, 0)
    remaining = (await client.get("/api/surveys", headers=key(demo, "admin"))).json()
    assert titles(remaining) == DEMO_TITLES - {"Customer satisfaction 2026"}


async def test_delete_in_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    foreign, _ = await foreign_survey(database_url)
    other = await client.delete(
        f"/api/surveys/{demo_survey(demo, 'Feature priorities')}", headers=key(demo, "member", 0)
    )
    assert other.status_code == 403
    assert (await client.delete(f"/api/surveys/{foreign}", headers=key(demo, "admin"))).status_code == 404
    assert (await client.get("/api/surveys", headers=key(demo, "admin"))).json()["total"] == 4


# --- lifecycle ---------------------------------------------------------------------------------------


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
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    foreign, _ = await foreign_survey(database_url)
    draft = demo_survey(demo, "Onboarding feedback")  # workspace 1; the second member is in workspace 2
    assert (await client.post(f"/api/surveys/{draft}/publish", headers=key(demo, "member", 1))).status_code == 403
    assert (await client.post(f"/api/surveys/{foreign}/close", headers=key(demo, "admin"))).status_code == 404
