"""`POST /api/surveys`: every kind of question, each invalid body a 422 naming its field, the caller's workspace only.

Related cases share one test and report every mismatch together: seeding dominates each test's time."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.clients import fields_of, key, workspace
from tests.support.resources import QUESTIONS, choice_question, create_survey

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


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
    ("unknown kind", {"questions": [choice_question(kind="ranking")]}, "questions[0].kind"),
    ("scale on a choice question", {"questions": [choice_question(scale=5)]}, "questions[0]"),
    ("rating with choices", {"questions": [{"kind": "rating", "text": "R", "choices": ["A"]}]}, "questions[0]"),
    ("rating without scale", {"questions": [{"kind": "rating", "text": "R"}]}, "questions[0]"),
    ("no choices", {"questions": [choice_question(choices=[])]}, "questions[0].choices"),
    ("choices missing", {"questions": [{"kind": "multiple_choice", "text": "M"}]}, "questions[0]"),
    ("51 choices", {"questions": [choice_question(choices=[f"c{i}" for i in range(51)])]}, "questions[0].choices"),
    ("empty choice", {"questions": [choice_question(choices=["A", ""])]}, "questions[0].choices[1]"),
    ("201-character choice", {"questions": [choice_question(choices=["A", "x" * 201])]}, "questions[0].choices[1]"),
    ("duplicate choice", {"questions": [choice_question(choices=["A", "B", "A"])]}, "questions[0].choices[2]"),
    ("blank choice", {"questions": [choice_question(choices=["A", "   "])]}, "questions[0].choices[1]"),
    ("choices not a list", {"questions": [choice_question(choices="A")]}, "questions[0].choices"),
    (
        "number as choice",
        {"questions": [choice_question(kind="multiple_choice", choices=[1, 2])]},
        "questions[0].choices[0]",
    ),
    ("scale 1", {"questions": [{"kind": "rating", "text": "R", "scale": 1}]}, "questions[0].scale"),
    ("scale 11", {"questions": [{"kind": "rating", "text": "R", "scale": 11}]}, "questions[0].scale"),
    ("scale a word", {"questions": [{"kind": "rating", "text": "R", "scale": "five"}]}, "questions[0].scale"),
    ("scale fractional", {"questions": [{"kind": "rating", "text": "R", "scale": 5.5}]}, "questions[0].scale"),
    ("empty question text", {"questions": [{"kind": "text", "text": ""}]}, "questions[0].text"),
    ("question text missing", {"questions": [{"kind": "text"}]}, "questions[0]"),
    ("required not a bool", {"questions": [{"kind": "text", "text": "Q", "required": "yes"}]}, "questions[0].required"),
    ("unknown question field", {"questions": [{"kind": "text", "text": "Q", "hint": "h"}]}, "questions[0]"),
    (
        "NUL in question text",
        {"questions": [choice_question(), {"kind": "text", "text": "a\x00b"}]},
        "questions[1].text",
    ),
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
        body = {"title": "A survey", "questions": [choice_question()]} | change
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
    """A field that breaks its type's rule stops the decoding there; the survey's own rule (unique choices)
    is checked on a decoded body, and every breach of it is reported at once."""
    questions = [
        choice_question(choices=["A", "A"]),
        {"kind": "text", "text": "ok"},
        choice_question(choices=["B", "B", " B "]),
    ]
    params, headers = {"workspace_id": workspace(demo, 0)}, key(demo, "admin")
    blank = await client.post(
        "/api/surveys", params=params, json={"title": " ", "questions": questions}, headers=headers
    )
    assert fields_of(blank) == (422, ["title"])
    repeated = await client.post(
        "/api/surveys", params=params, json={"title": "T", "questions": questions}, headers=headers
    )
    assert fields_of(repeated) == (
        422,
        ["questions[0].choices[1]", "questions[2].choices[1]", "questions[2].choices[2]"],
    )
    assert all(error["source"] == "body" for error in [*blank.json()["errors"], *repeated.json()["errors"]])


async def test_create_needs_a_workspace_of_the_caller(
    client: AsyncTestClient[Litestar], demo: DemoData, other_tenant: Tenant
) -> None:
    foreign_workspace = str(other_tenant.workspace_id)
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
