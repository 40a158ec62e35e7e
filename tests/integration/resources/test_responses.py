"""Responses: public submission rules and validation, member imports, and the members' paginated list."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.clients import demo_survey, fields_of, key, without_request_id, workspace
from tests.support.db import selects, statements_run_by
from tests.support.resources import create_survey

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


def full_answers(survey: dict[str, Any]) -> list[dict[str, Any]]:
    """Answers to every question of the helper survey (colour, pets, rating, text), in that order."""
    colour, pets, rating, comment = (question["id"] for question in survey["questions"])
    return [
        {"question_id": colour, "choice": "Green"},
        {"question_id": pets, "choices": ["Fish", "Cat"]},
        {"question_id": rating, "rating": 4},
        {"question_id": comment, "text": "Lovely survey."},
    ]


async def published(client: AsyncTestClient[Litestar], demo: DemoData) -> dict[str, Any]:
    return await create_survey(client, key(demo, "member", 0), workspace(demo, 0), publish=True)


async def submit(client: AsyncTestClient[Litestar], survey_id: str, body: dict[str, Any]) -> Any:
    return await client.post(f"/api/public/surveys/{survey_id}/responses", json=body)


async def responses_of(client: AsyncTestClient[Litestar], demo: DemoData, survey_id: str) -> list[dict[str, Any]]:
    listed = await client.get(f"/api/surveys/{survey_id}/responses", headers=key(demo, "member", 0))
    assert listed.status_code == 200
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


# --- public submission -------------------------------------------------------------------------------


async def test_a_respondent_answers_a_published_survey(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    survey = await published(client, demo)
    body = {
        "answers": full_answers(survey),
        "respondent_name": "Rita Respondent",
        "respondent_email": "rita@example.org",
    }
    response = await submit(client, survey["id"], body)
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id"}
    assert b"rita" not in response.content.lower()
    assert b"Lovely" not in response.content

    [stored] = await responses_of(client, demo, survey["id"])
    colour, pets, rating, comment = (question["id"] for question in survey["questions"])
    assert stored["id"] == response.json()["id"]
    assert stored["survey_id"] == survey["id"]
    assert stored["completed"] is True
    assert stored["submitted_by_id"] is None
    assert (stored["respondent_name"], stored["respondent_email"]) == ("Rita Respondent", "rita@example.org")
    assert stored["created_at"].endswith("Z")
    assert stored["answers"] == [
        {"question_id": colour, "choice": "Green"},
        {"question_id": pets, "choices": ["Cat", "Fish"]},  # in the question's order
        {"question_id": rating, "rating": 4},
        {"question_id": comment, "text": "Lovely survey."},
    ]


async def test_answering_only_the_required_questions_is_not_complete(
    client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    survey = await published(client, demo)
    colour, _, rating, _ = full_answers(survey)
    response = await submit(client, survey["id"], {"answers": [rating, colour]})  # any order
    assert response.status_code == 201, response.text
    [stored] = await responses_of(client, demo, survey["id"])
    assert stored["completed"] is False
    assert (stored["respondent_name"], stored["respondent_email"]) == (None, None)
    assert [answer["question_id"] for answer in stored["answers"]] == [colour["question_id"], rating["question_id"]]


async def test_only_a_published_survey_takes_public_responses(
    client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    draft = await submit(client, demo_survey(demo, "Onboarding feedback"), {"answers": []})
    missing = await submit(client, str(uuid.uuid4()), {"answers": []})
    assert draft.status_code == missing.status_code == 404
    assert without_request_id(draft) == without_request_id(missing)
    closed = await submit(client, demo_survey(demo, "Beta exit survey"), {"answers": []})
    assert closed.status_code == 409
    assert closed.json()["code"] == "survey_closed"


def invalid_submissions(survey: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]], dict[str, Any], list[str]]]:
    """(name, answers, extra body fields, offending fields), each changing the valid full answer list."""
    colour, pets, rating, comment = full_answers(survey)
    rating_id = rating["question_id"]
    return [
        ("unknown question", [colour, pets, rating, {"question_id": str(uuid.uuid4()), "text": "?"}], {},
         ["answers[3].question_id"]),
        ("question id not a uuid", [colour, pets, rating, {"question_id": "q4", "text": "?"}], {},
         ["answers[3].question_id"]),
        ("wrong choice", [pets, rating, colour | {"choice": "Purple"}], {}, ["answers[2].choice"]),
        ("several choices on single choice", [pets, rating, {"question_id": colour["question_id"],
                                                            "choices": ["Red", "Green"]}], {}, ["answers[2].choices"]),
        ("choice and choices", [pets, rating, colour | {"choices": ["Red"]}], {}, ["answers[2].choices"]),
        ("rating 0", [colour, pets, rating | {"rating": 0}], {}, ["answers[2].rating"]),
        ("rating above the scale", [colour, pets, rating | {"rating": 6}], {}, ["answers[2].rating"]),
        ("rating a word", [colour, pets, rating | {"rating": "high"}], {}, ["answers[2].rating"]),
        ("rating fractional", [colour, pets, rating | {"rating": 4.5}], {}, ["answers[2].rating"]),
        ("text too long", [colour, pets, rating, comment | {"text": "x" * 5001}], {}, ["answers[3].text"]),
        ("empty text", [colour, pets, rating, comment | {"text": ""}], {}, ["answers[3].text"]),
        ("NUL in text", [colour, pets, rating, comment | {"text": "a\x00b"}], {}, ["answers[3].text"]),
        ("text for a rating", [colour, pets, {"question_id": rating_id, "text": "five"}], {}, ["answers[2].text"]),
        ("no value", [colour, pets, {"question_id": rating_id}], {}, ["answers[2]"]),
        ("unknown option", [colour, rating, pets | {"choices": ["Cat", "Horse"]}], {}, ["answers[2].choices[1]"]),
        ("option twice", [colour, rating, pets | {"choices": ["Cat", "Cat"]}], {}, ["answers[2].choices[1]"]),
        ("no option", [colour, rating, pets | {"choices": []}], {}, ["answers[2].choices"]),
        ("answered twice", [colour, rating, colour | {"choice": "Red"}], {}, ["answers[2].question_id"]),
        ("unknown answer field", [colour, rating | {"comment": "hi"}], {}, ["answers[1]"]),
        ("missing required", [pets, rating], {}, ["answers"]),
        ("missing every required", [pets], {}, ["answers", "answers"]),
        ("not an email", [colour, rating], {"respondent_email": "rita at example.org"}, ["respondent_email"]),
        ("blank name", [colour, rating], {"respondent_name": "  "}, ["respondent_name"]),
        ("name too long", [colour, rating], {"respondent_name": "x" * 201}, ["respondent_name"]),
        ("several problems", [colour | {"choice": "Purple"}, rating | {"rating": 9}], {}, ["answers[0].choice",
                                                                                            "answers[1].rating"]),
    ]  # fmt: skip


async def test_answers_that_do_not_fit_the_questions_are_422_at_the_offending_item(
    client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    survey = await published(client, demo)
    mismatches = []
    for name, answers, extra, fields in invalid_submissions(survey):
        response = await submit(client, survey["id"], {"answers": answers} | extra)
        if fields_of(response) != (422, fields) or response.json().get("code") != "validation_failed":
            mismatches.append((name, response.status_code, response.text))
    assert not mismatches
    assert await responses_of(client, demo, survey["id"]) == []  # nothing was stored
    unknown = await submit(client, survey["id"], {"answers": [], "score": 3})
    assert unknown.status_code == 422
    assert "`score`" in unknown.json()["errors"][0]["message"]


# --- member import -----------------------------------------------------------------------------------


async def test_a_member_imports_a_response_into_a_published_survey(
    client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    headers = key(demo, "member", 0)
    survey = await published(client, demo)
    body = {"answers": full_answers(survey), "respondent_email": "imported@example.org"}
    response = await client.post(f"/api/surveys/{survey['id']}/responses", json=body, headers=headers)
    assert response.status_code == 201, response.text
    imported = response.json()
    assert imported["submitted_by_id"] == survey["created_by_id"]  # the same member
    assert imported["completed"] is True
    assert imported["respondent_email"] == "imported@example.org"
    assert len(imported["answers"]) == 4
    assert await responses_of(client, demo, survey["id"]) == [imported]

    invalid = await client.post(
        f"/api/surveys/{survey['id']}/responses", json={"answers": full_answers(survey)[1:]}, headers=headers
    )
    assert fields_of(invalid) == (422, ["answers"])


async def test_imports_need_an_open_survey(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    headers = key(demo, "admin")
    for title in ("Onboarding feedback", "Beta exit survey"):
        response = await client.post(
            f"/api/surveys/{demo_survey(demo, title)}/responses", json={"answers": []}, headers=headers
        )
        assert response.status_code == 409, title
        assert response.json()["code"] == "survey_not_open"


async def test_imports_in_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, other_tenant: Tenant
) -> None:
    foreign = other_tenant.survey_id
    body = {"answers": []}
    other = await client.post(
        f"/api/surveys/{demo_survey(demo, 'Feature priorities')}/responses", json=body, headers=key(demo, "member", 0)
    )
    assert other.status_code == 403
    elsewhere = await client.post(f"/api/surveys/{foreign}/responses", json=body, headers=key(demo, "admin"))
    assert elsewhere.status_code == 404


# --- list --------------------------------------------------------------------------------------------


async def test_members_list_responses_with_personal_data_page_by_page(
    client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")
    headers = key(demo, "member", 0)
    first = await client.get(f"/api/surveys/{survey_id}/responses", params={"limit": 10}, headers=headers)
    assert first.status_code == 200
    page = first.json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (24, 10, 0, 10)
    rest = await client.get(f"/api/surveys/{survey_id}/responses", params={"limit": 200, "offset": 10}, headers=headers)
    assert (rest.json()["total"], len(rest.json()["items"])) == (24, 14)
    items = page["items"] + rest.json()["items"]
    assert len({item["id"] for item in items}) == 24
    assert [item["created_at"] for item in items] == sorted((item["created_at"] for item in items), reverse=True)
    with_pii = [item for item in items if item["respondent_email"]]
    assert len(with_pii) == 8
    assert all(item["respondent_email"].endswith("@example.com") and item["respondent_name"] for item in with_pii)
    assert sum(item["completed"] for item in items) == 20
    assert all(item["answers"] for item in items)
    assert any(len(answer.get("choices", [])) == 2 for item in items for answer in item["answers"])
    for params, field in [({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"offset": -1}, "offset")]:
        response = await client.get(f"/api/surveys/{survey_id}/responses", params=params, headers=headers)
        assert fields_of(response) == (422, [field]), params


async def test_listing_responses_costs_the_same_queries_whatever_the_page_size(
    app: Litestar, client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")
    counts = []
    with statements_run_by(app.state.db_config.get_engine().sync_engine) as statements:
        for limit in (1, 20):
            statements.clear()
            response = await client.get(
                f"/api/surveys/{survey_id}/responses", params={"limit": limit}, headers=key(demo, "admin")
            )
            assert len(response.json()["items"]) == limit
            counts.append(selects(statements))
    assert counts[0] == counts[1]


async def test_response_list_in_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, other_tenant: Tenant
) -> None:
    foreign = other_tenant.survey_id
    other = await client.get(
        f"/api/surveys/{demo_survey(demo, 'Feature priorities')}/responses", headers=key(demo, "member", 0)
    )
    assert other.status_code == 403
    elsewhere = await client.get(f"/api/surveys/{foreign}/responses", headers=key(demo, "admin"))
    missing = await client.get(f"/api/surveys/{uuid.uuid4()}/responses", headers=key(demo, "admin"))
    assert elsewhere.status_code == missing.status_code == 404
    assert without_request_id(elsewhere) == without_request_id(missing)
    assert (await client.get(f"/api/surveys/{foreign}/responses", headers=key(demo, "client"))).status_code == 403
