"""Survey metrics against a hand-computed fixture: counts, completion, UTC days, distributions, small counts, no PII."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from sqlalchemy import text, update

from tabular.db import Response, Survey
from tabular.schemas.metrics import Count, SurveyMetrics
from tabular.services.metrics import survey_metrics
from tests.support.clients import demo_survey, key, workspace
from tests.support.db import committed_session, statements_run_by
from tests.support.resources import create_survey

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio

PRIVATE_TEXT = "Loved it, call me on 555-0100"
PRIVATE_NAME = "Jane Doe"
PRIVATE_EMAIL = "jane.doe@example.org"

# One row per response: when (any offset; the day is the UTC one), colour, pets, rating, comment.
SEVEN: list[tuple[str, str, list[str] | None, int, str | None]] = [
    ("2026-03-01T08:00:00+00:00", "Red", ["Cat", "Dog"], 5, "Great"),
    ("2026-03-01T09:00:00+00:00", "Red", ["Cat"], 4, None),
    ("2026-03-01T12:00:00+00:00", "Red", ["Fish", "Cat"], 4, PRIVATE_TEXT),  # also carries name and email
    ("2026-03-02T01:30:00+02:00", "Green", ["Cat"], 3, None),  # 23:30 UTC on 1 March
    ("2026-03-01T15:00:00+00:00", "Red", None, 5, None),
    ("2026-03-02T00:30:00+00:00", "Green", ["Dog", "Cat"], 5, "Fine by me"),
    ("2026-03-02T10:00:00+00:00", "Red", ["Cat", "Dog"], 1, None),
]


WITHHELD = {"count": None, "suppressed": True}


def exact(count: int) -> dict[str, Any]:
    return {"count": count, "suppressed": False}


def expected_metrics(survey: dict[str, Any]) -> dict[str, Any]:
    """Worked out by hand from SEVEN: counts of 1-4 are withheld, totals and `answered` stay exact."""
    colour, pets, rating, comment = survey["questions"]

    def about(question: dict[str, Any], answered: int, **rest: Any) -> dict[str, Any]:
        return {
            "question_id": question["id"],
            "position": question["position"],
            "kind": question["kind"],
            "text": question["text"],
            "answered": answered,
            "choices": None,
            "ratings": None,
            "mean": None,
        } | rest

    return {
        "survey_id": survey["id"],
        "status": "published",
        "total": 7,
        "completed": 3,  # responses 1, 3 and 6 answer all four questions
        "completion_rate": 0.4286,
        "per_day": [{"date": "2026-03-01", **exact(5)}, {"date": "2026-03-02", **WITHHELD}],
        "questions": [
            about(
                colour,
                7,
                choices=[
                    {"choice": "Red", **exact(5)},
                    {"choice": "Green", **WITHHELD},
                    {"choice": "Blue", **exact(0)},
                ],
            ),
            about(
                pets,
                6,
                choices=[
                    {"choice": "Cat", **exact(6)},
                    {"choice": "Dog", **WITHHELD},
                    {"choice": "Fish", **WITHHELD},
                ],
            ),
            about(
                rating,
                7,
                ratings=[
                    {"rating": 1, **WITHHELD},
                    {"rating": 2, **exact(0)},
                    {"rating": 3, **WITHHELD},
                    {"rating": 4, **WITHHELD},
                    {"rating": 5, **WITHHELD},
                ],
                mean=3.86,  # (5 + 4 + 4 + 3 + 5 + 5 + 1) / 7
            ),
            about(comment, 3),
        ],
    }


async def seven_responses(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> tuple[dict[str, Any], list[str]]:
    """The published helper survey with the SEVEN responses, submitted publicly and then back-dated."""
    survey = await create_survey(client, key(demo, "member", 0), workspace(demo, 0), publish=True)
    colour, pets, rating, comment = (question["id"] for question in survey["questions"])
    dated: dict[str, dt.datetime] = {}
    for when, chosen_colour, chosen_pets, score, remark in SEVEN:
        answers: list[dict[str, Any]] = [
            {"question_id": colour, "choice": chosen_colour},
            {"question_id": rating, "rating": score},
        ]
        if chosen_pets is not None:
            answers.append({"question_id": pets, "choices": chosen_pets})
        if remark is not None:
            answers.append({"question_id": comment, "text": remark})
        body: dict[str, Any] = {"answers": answers}
        if remark == PRIVATE_TEXT:
            body |= {"respondent_name": PRIVATE_NAME, "respondent_email": PRIVATE_EMAIL}
        response = await client.post(f"/api/public/surveys/{survey['id']}/responses", json=body)
        assert response.status_code == 201, response.text
        dated[response.json()["id"]] = dt.datetime.fromisoformat(when)

    async with committed_session(database_url) as session:
        for response_id, when in dated.items():
            await session.execute(update(Response).where(Response.id == uuid.UUID(response_id)).values(created_at=when))
    return survey, list(dated)


async def test_metrics_match_the_hand_computed_fixture(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    survey, response_ids = await seven_responses(client, demo, database_url)
    response = await client.get(f"/api/surveys/{survey['id']}/metrics/responses", headers=key(demo, "member", 0))
    assert response.status_code == 200
    assert response.json() == expected_metrics(survey)

    raw = response.content
    for secret in (PRIVATE_TEXT, "555-0100", PRIVATE_NAME, PRIVATE_EMAIL, "jane", "Fine by me", *response_ids):
        assert secret.encode() not in raw, secret
    assert b"@" not in raw

    slashed = await client.get(f"/api/surveys/{survey['id']}/metrics/responses/", headers=key(demo, "admin"))
    assert slashed.status_code == 200
    assert slashed.content == raw


async def test_survey_metrics_is_a_few_grouped_queries_in_utc(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    """The function dashboards call: given a session and a survey; per-day stays UTC in any session time zone."""
    survey, _ = await seven_responses(client, demo, database_url)

    async def compute(session: AsyncSession) -> tuple[SurveyMetrics, list[str]]:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))  # UTC+14: local dates differ
        loaded = await session.get_one(Survey, uuid.UUID(survey["id"]))
        with statements_run_by(session.get_bind()) as statements:
            metrics = await survey_metrics(session, loaded)
        return metrics, statements

    async with committed_session(database_url) as session:
        metrics, statements = await compute(session)
    assert msgspec.to_builtins(metrics) == expected_metrics(survey)
    assert len(statements) == 4
    assert all("GROUP BY" in sql.upper() or "COUNT(" in sql.upper() for sql in statements)


async def test_small_counts_and_empty_surveys(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    assert [msgspec.to_builtins(Count.of(count)) for count in range(7)] == [
        exact(0),
        WITHHELD,
        WITHHELD,
        WITHHELD,
        WITHHELD,
        exact(5),
        exact(6),
    ]
    headers = key(demo, "member", 0)
    survey = await create_survey(client, headers, workspace(demo, 0), publish=True)
    url = f"/api/surveys/{survey['id']}/metrics/responses"

    empty = (await client.get(url, headers=headers)).json()
    assert (empty["total"], empty["completed"], empty["completion_rate"], empty["per_day"]) == (0, 0, None, [])
    assert [question["answered"] for question in empty["questions"]] == [0, 0, 0, 0]
    assert [choice["count"] for choice in empty["questions"][0]["choices"]] == [0, 0, 0]
    assert [bucket["count"] for bucket in empty["questions"][2]["ratings"]] == [0, 0, 0, 0, 0]
    assert empty["questions"][2]["mean"] is None

    colour, _, rating, _ = (question["id"] for question in survey["questions"])
    for score in (2, 4, 5):
        answers = [{"question_id": colour, "choice": "Blue"}, {"question_id": rating, "rating": score}]
        assert (
            await client.post(f"/api/public/surveys/{survey['id']}/responses", json={"answers": answers})
        ).is_success
    few = (await client.get(url, headers=headers)).json()
    assert (few["total"], few["completed"], few["completion_rate"]) == (3, 0, 0.0)  # totals stay exact
    [today] = few["per_day"]
    assert today == {"date": dt.datetime.now(dt.UTC).date().isoformat(), **WITHHELD}
    assert few["questions"][0]["answered"] == 3
    assert few["questions"][0]["choices"][2] == {"choice": "Blue", **WITHHELD}
    assert few["questions"][2]["mean"] is None  # 3 ratings: the mean would give them away


async def test_demo_survey_metrics(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")
    metrics = (await client.get(f"/api/surveys/{survey_id}/metrics/responses", headers=key(demo, "admin"))).json()
    assert (metrics["total"], metrics["completed"], metrics["completion_rate"]) == (24, 20, 0.8333)
    rating, source, features, comment = metrics["questions"]
    assert rating["answered"] == 24
    assert rating["mean"] is not None
    assert 2 <= rating["mean"] <= 5
    assert rating["ratings"][0] == {"rating": 1, **exact(0)}  # the demo rates 2-5
    assert (source["answered"], features["answered"], comment["answered"]) == (20, 20, 7)
    assert [choice["choice"] for choice in features["choices"]] == ["Dashboards", "Reports", "API", "Exports"]
    assert b"@example.com" not in msgspec.json.encode(metrics)


async def test_metrics_in_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, other_tenant: Tenant
) -> None:
    foreign = other_tenant.survey_id
    other = await client.get(
        f"/api/surveys/{demo_survey(demo, 'Feature priorities')}/metrics/responses", headers=key(demo, "member", 0)
    )
    assert other.status_code == 403
    elsewhere = await client.get(f"/api/surveys/{foreign}/metrics/responses", headers=key(demo, "admin"))
    missing = await client.get(f"/api/surveys/{uuid.uuid4()}/metrics/responses", headers=key(demo, "admin"))
    assert elsewhere.status_code == missing.status_code == 404
    assert elsewhere.json() == missing.json()
