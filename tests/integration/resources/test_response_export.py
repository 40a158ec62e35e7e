"""`GET /api/surveys/{id}/responses/export`: every response in one streamed CSV or NDJSON file, for members."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tabular.db import Answer, QuestionKind, Response, Workspace
from tests.support.clients import Client, assert_problem, demo_survey, fields_of, key, ok, without_request_id, workspace
from tests.support.db import committed_session
from tests.support.factories import new_survey
from tests.support.resources import create_survey

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio

FORMULAS = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]


def export_path(survey_id: str) -> str:
    return f"/api/surveys/{survey_id}/responses/export"


async def published(client: Client, demo: DemoData) -> dict[str, Any]:
    return await create_survey(client, key(demo, "member", 0), workspace(demo, 0), publish=True)


async def answer(client: Client, survey: dict[str, Any], *, pets: list[str], text: str, **extra: Any) -> str:
    colour, pet, rating, comment = (question["id"] for question in survey["questions"])
    answers = [
        {"question_id": colour, "choice": "Blue"},
        {"question_id": pet, "choices": pets},
        {"question_id": rating, "rating": 5},
        {"question_id": comment, "text": text},
    ]
    response = await client.post(f"/api/public/surveys/{survey['id']}/responses", json={"answers": answers} | extra)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_has_a_column_per_question_and_multiple_choices_in_one_cell(client: Client, demo: DemoData) -> None:
    survey = await published(client, demo)
    first = await answer(client, survey, pets=["Fish", "Cat"], text="Lovely", respondent_name="Rita")
    second = await answer(client, survey, pets=["Dog"], text="Fine")

    response = await client.get(export_path(survey["id"]), params={"format": "csv"}, headers=key(demo, "member", 0))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="responses-{survey["id"]}.csv"'
    header = next(csv.reader(io.StringIO(response.text)))
    assert header == [
        "id",
        "created_at",
        "completed",
        "submitted_by_id",
        "respondent_name",
        "respondent_email",
        "1. Favourite colour?",
        "2. Which pets do you have?",
        "3. How happy are you?",
        "4. Anything else?",
    ]
    rows = csv_rows(response.text)
    assert [row["id"] for row in rows] == [first, second]  # oldest first
    assert rows[0]["2. Which pets do you have?"] == "Cat; Fish"  # one cell, in the question's order
    assert rows[1]["2. Which pets do you have?"] == "Dog"
    assert (rows[0]["1. Favourite colour?"], rows[0]["3. How happy are you?"]) == ("Blue", "5")
    assert (rows[0]["respondent_name"], rows[1]["respondent_name"], rows[0]["completed"]) == ("Rita", "", "true")
    assert rows[0]["created_at"].endswith("Z")


async def test_values_a_spreadsheet_would_run_are_neutralised(client: Client, demo: DemoData) -> None:
    survey = await published(client, demo)
    for formula in FORMULAS:
        await answer(client, survey, pets=["Cat"], text=f"{formula} and more", respondent_name="=HYPERLINK(1)")
    await answer(client, survey, pets=["Cat"], text="plain = fine")

    response = await client.get(export_path(survey["id"]), headers=key(demo, "admin"))  # csv by default

    assert response.status_code == 200, response.text
    rows = csv_rows(response.text)
    texts = [row["4. Anything else?"] for row in rows]
    assert texts == [f"'{formula} and more" for formula in FORMULAS] + ["plain = fine"]
    assert {row["respondent_name"] for row in rows} == {"'=HYPERLINK(1)", ""}
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row.values())


async def test_ndjson_has_one_response_per_line_as_the_list_shows_it(client: Client, demo: DemoData) -> None:
    survey = await published(client, demo)
    for index in range(3):
        await answer(client, survey, pets=["Fish", "Cat"], text=f"=line {index}")
    member = key(demo, "member", 0)

    response = await client.get(export_path(survey["id"]), params={"format": "ndjson"}, headers=member)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.text.splitlines()
    exported = [json.loads(line) for line in lines]
    listed = ok(await client.get(f"/api/surveys/{survey['id']}/responses", headers=member))["items"]
    assert exported == list(reversed(listed))  # the list is newest first, the export oldest first
    assert exported[0]["answers"][1]["choices"] == ["Cat", "Fish"]
    assert exported[2]["answers"][3]["text"] == "=line 2"  # JSON carries values as they are
    assert response.text.endswith("\n")


async def test_since_keeps_the_responses_made_from_then_on(client: Client, demo: DemoData) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")  # the demo's responses span several days
    admin = key(demo, "admin")
    everything = [json.loads(line) for line in (await client.get(
        export_path(survey_id), params={"format": "ndjson"}, headers=admin)).text.splitlines()]  # fmt: skip
    assert len(everything) == 24
    cut = everything[10]["created_at"]

    since = await client.get(export_path(survey_id), params={"format": "ndjson", "since": cut}, headers=admin)

    kept = [json.loads(line) for line in since.text.splitlines()]
    assert kept == [item for item in everything if item["created_at"] >= cut]
    assert 0 < len(kept) < 24
    as_csv = csv_rows((await client.get(export_path(survey_id), params={"since": cut}, headers=admin)).text)
    assert [row["id"] for row in as_csv] == [item["id"] for item in kept]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    empty = await client.get(export_path(survey_id), params={"since": future}, headers=admin)
    assert len(csv_rows(empty.text)) == 0
    assert empty.text.startswith("id,created_at")  # the header, even with no row


async def test_bad_format_or_since_are_422_problems_naming_the_parameter(client: Client, demo: DemoData) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")
    admin = key(demo, "admin")
    cases = [
        ({"format": "xlsx"}, "format"),
        ({"format": ""}, "format"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-31T00:00:00"}, "since"),  # no zone: a guess
    ]
    for params, field in cases:
        response = await client.get(export_path(survey_id), params=params, headers=admin)
        assert_problem(response, 422)
        assert fields_of(response) == (422, [field]), params


async def test_members_and_admins_export_clients_do_not_and_other_organizations_do_not_see_it(
    client: Client, demo: DemoData, other_tenant: Tenant
) -> None:
    own = demo_survey(demo, "Customer satisfaction 2026")
    other_workspace = demo_survey(demo, "Feature priorities")
    assert (await client.get(export_path(own), headers=key(demo, "member", 0))).status_code == 200
    assert (await client.get(export_path(other_workspace), headers=key(demo, "admin"))).status_code == 200
    assert_problem(await client.get(export_path(own), headers=key(demo, "client")), 403, "role_forbidden")
    assert_problem(await client.get(export_path(other_workspace), headers=key(demo, "member", 0)), 403)
    elsewhere = await client.get(export_path(str(other_tenant.survey_id)), headers=key(demo, "admin"))
    missing = await client.get(export_path(str(uuid.uuid4())), headers=key(demo, "admin"))
    assert_problem(elsewhere, 404, "not_found")
    assert without_request_id(elsewhere) == without_request_id(missing)
    assert_problem(await client.get(export_path(own)), 401)


async def test_an_export_of_many_responses_is_one_request_to_the_limiter(
    client: Client, demo: DemoData, database_url: str
) -> None:
    rating = [{"kind": QuestionKind.RATING, "text": "Rate", "scale": 5}]
    async with committed_session(database_url) as session:
        home = await session.get(Workspace, uuid.UUID(workspace(demo, 0)))
        assert home is not None
        survey = await new_survey(session, home, questions=rating)
        question_id = survey.questions[0].id
        session.add_all(  # more than two fetches' worth
            Response(survey_id=survey.id, answers=[Answer(question_id=question_id, rating=index % 5 + 1)])
            for index in range(2500)
        )
        survey_id = str(survey.id)
    admin = key(demo, "admin")

    before = await client.get("/api/auth", headers=admin)
    exported = await client.get(export_path(survey_id), params={"format": "ndjson"}, headers=admin)
    after = await client.get("/api/auth", headers=admin)

    assert len(exported.text.splitlines()) == 2500
    assert len({json.loads(line)["id"] for line in exported.text.splitlines()}) == 2500
    remaining = [int(response.headers["RateLimit-Remaining"]) for response in (before, exported, after)]
    assert remaining == [remaining[0], remaining[0] - 1, remaining[0] - 2]


async def test_the_openapi_document_names_both_file_types_and_the_parameters(client: Client) -> None:
    document = ok(await client.get("/schema/openapi.json"))
    operation = document["paths"]["/api/surveys/{survey_id}/responses/export"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"text/csv", "application/x-ndjson"}
    assert "Content-Disposition" in operation["responses"]["200"]["headers"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {"survey_id", "format", "since"}
    assert {"401", "403", "404", "422", "429"} <= set(operation["responses"])
    assert operation["x-tabular-policy"]["resource"] == "response"
    assert operation["x-tabular-policy"]["action"] == "list"
