"""Survey metrics against a hand-computed fixture: exact for members, under disclosure control for a client, no PII."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from sqlalchemy import text, update

from tabular.db import Response, Survey
from tabular.services.metrics import CONTROLLED, EXACT, survey_metrics
from tests.support.clients import demo_survey, key, without_request_id, workspace
from tests.support.db import committed_session, statements_run_by
from tests.support.resources import create_dashboard, create_survey

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.demo import DemoData
    from tabular.schemas.metrics import SurveyMetrics
    from tabular.services.metrics import Release
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


def about(question: dict[str, Any], answered: int | None, **rest: Any) -> dict[str, Any]:
    """A question's metrics: `answered` and what `rest` adds to a question that has no distribution."""
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


def expected_metrics(survey: dict[str, Any]) -> dict[str, Any]:
    """Worked out by hand from SEVEN, as members and admins see it: every figure exact."""
    colour, pets, rating, comment = survey["questions"]
    return {
        "survey_id": survey["id"],
        "status": "published",
        "disclosure": "exact",
        "total": 7,
        "completed": 3,  # responses 1, 3 and 6 answer all four questions
        "completion_rate": 0.4286,
        "per_day": [{"date": "2026-03-01", **exact(5)}, {"date": "2026-03-02", **exact(2)}],
        "questions": [
            about(
                colour,
                7,
                choices=[
                    {"choice": "Red", **exact(5)},
                    {"choice": "Green", **exact(2)},
                    {"choice": "Blue", **exact(0)},
                ],
            ),
            about(
                pets,
                6,
                choices=[
                    {"choice": "Cat", **exact(6)},
                    {"choice": "Dog", **exact(3)},
                    {"choice": "Fish", **exact(1)},
                ],
            ),
            about(
                rating,
                7,
                ratings=[
                    {"rating": 1, **exact(1)},
                    {"rating": 2, **exact(0)},
                    {"rating": 3, **exact(1)},
                    {"rating": 4, **exact(2)},
                    {"rating": 5, **exact(3)},
                ],
                mean=3.86,  # (5 + 4 + 4 + 3 + 5 + 5 + 1) / 7
            ),
            about(comment, 3),
        ],
    }


def expected_for_a_client(survey: dict[str, Any]) -> dict[str, Any]:
    """SEVEN under disclosure control, by hand: the first five to arrive (1, 2, 3, 5, then 4 at 23:30 UTC on
    1 March) are counted, 6 and 7 wait for three more; counts rounded to 5 together per distribution."""
    colour, pets, rating, comment = survey["questions"]
    return {
        "survey_id": survey["id"],
        "status": "published",
        "disclosure": "controlled",
        "total": 5,
        "completed": 0,  # 2 of the five (1 and 3)
        "completion_rate": 0.0,
        "per_day": [{"date": "2026-03-01", **exact(5)}],
        "questions": [
            about(
                colour,
                5,
                choices=[  # Red 4, Green 1, Blue 0: their total, 5, goes to the largest remainder
                    {"choice": "Red", **exact(5)},
                    {"choice": "Green", **exact(0)},
                    {"choice": "Blue", **exact(0)},
                ],
            ),
            about(pets, None, choices=[{"choice": choice, **WITHHELD} for choice in ("Cat", "Dog", "Fish")]),
            about(
                rating,
                5,
                ratings=[  # 3: 1, 4: 2, 5: 2; of the equal remainders, the first goes up
                    {"rating": 1, **exact(0)},
                    {"rating": 2, **exact(0)},
                    {"rating": 3, **exact(0)},
                    {"rating": 4, **exact(5)},
                    {"rating": 5, **exact(0)},
                ],
                mean=4.0,  # of the counts shown
            ),
            about(comment, None),  # 2 answers: withheld
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
    assert_no_personal_data(response.content, response_ids)

    slashed = await client.get(f"/api/surveys/{survey['id']}/metrics/responses/", headers=key(demo, "admin"))
    assert slashed.status_code == 200
    assert slashed.content == response.content


async def test_a_client_sees_the_fixture_under_disclosure_control(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    """The same dashboard: exact for the member who may read the responses, controlled for the client."""
    survey, response_ids = await seven_responses(client, demo, database_url)
    dashboard = await create_dashboard(client, key(demo, "member", 0), workspace(demo, 0), [survey["id"]])
    seen = await client.get(f"/api/dashboards/{dashboard}", headers=key(demo, "client"))
    assert seen.status_code == 200
    assert seen.json()["metrics"] == [expected_for_a_client(survey)]
    assert_no_personal_data(seen.content, response_ids)
    by_the_member = await client.get(f"/api/dashboards/{dashboard}", headers=key(demo, "member", 0))
    assert by_the_member.json()["metrics"] == [expected_metrics(survey)]


def assert_no_personal_data(raw: bytes, response_ids: list[str]) -> None:
    for secret in (PRIVATE_TEXT, "555-0100", PRIVATE_NAME, PRIVATE_EMAIL, "jane", "Fine by me", *response_ids):
        assert secret.encode() not in raw, secret
    assert b"@" not in raw


async def test_survey_metrics_is_a_few_grouped_queries_in_utc(
    client: AsyncTestClient[Litestar], demo: DemoData, database_url: str
) -> None:
    """The function dashboards call: a session, a survey and a release; per-day stays UTC in any time zone."""
    survey, _ = await seven_responses(client, demo, database_url)

    async def compute(session: AsyncSession, release: Release) -> tuple[SurveyMetrics, list[str]]:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))  # UTC+14: local dates differ
        loaded = await session.get_one(Survey, uuid.UUID(survey["id"]))
        with statements_run_by(session.get_bind()) as statements:
            metrics = await survey_metrics(session, loaded, release)
        return metrics, statements

    for release, expected in ((EXACT, expected_metrics), (CONTROLLED, expected_for_a_client)):
        async with committed_session(database_url) as session:
            metrics, statements = await compute(session, release)
        assert msgspec.to_builtins(metrics) == expected(survey)
        assert len(statements) == 3
        assert all("GROUP BY" in sql.upper() for sql in statements)


async def test_empty_and_small_surveys(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    """A member sees even one response exactly; a client sees nothing until five have answered."""
    member = key(demo, "member", 0)
    survey = await create_survey(client, member, workspace(demo, 0), publish=True)
    url = f"/api/surveys/{survey['id']}/metrics/responses"
    dashboard = await create_dashboard(client, member, workspace(demo, 0), [survey["id"]])

    async def for_the_client() -> dict[str, Any]:
        [metrics] = (await client.get(f"/api/dashboards/{dashboard}", headers=key(demo, "client"))).json()["metrics"]
        return dict(metrics)

    empty = (await client.get(url, headers=member)).json()
    assert (empty["total"], empty["completed"], empty["completion_rate"], empty["per_day"]) == (0, 0, None, [])
    assert [question["answered"] for question in empty["questions"]] == [0, 0, 0, 0]
    assert [choice["count"] for choice in empty["questions"][0]["choices"]] == [0, 0, 0]
    assert [bucket["count"] for bucket in empty["questions"][2]["ratings"]] == [0, 0, 0, 0, 0]
    assert empty["questions"][2]["mean"] is None
    assert (await for_the_client())["questions"] == [
        about(question, None) | withheld_counts(question) for question in survey["questions"]
    ]

    colour, _, rating, _ = (question["id"] for question in survey["questions"])
    for score in (2, 4, 5):
        answers = [{"question_id": colour, "choice": "Blue"}, {"question_id": rating, "rating": score}]
        assert (
            await client.post(f"/api/public/surveys/{survey['id']}/responses", json={"answers": answers})
        ).is_success
    few = (await client.get(url, headers=member)).json()
    assert (few["total"], few["completed"], few["completion_rate"]) == (3, 0, 0.0)
    assert few["per_day"] == [{"date": dt.datetime.now(dt.UTC).date().isoformat(), **exact(3)}]
    assert few["questions"][0]["answered"] == 3
    assert few["questions"][0]["choices"][2] == {"choice": "Blue", **exact(3)}
    assert [bucket["count"] for bucket in few["questions"][2]["ratings"]] == [0, 1, 0, 1, 1]
    assert few["questions"][2]["mean"] == 3.67

    hidden = await for_the_client()
    assert (hidden["total"], hidden["completed"], hidden["completion_rate"], hidden["per_day"]) == (0, 0, None, [])
    assert hidden["questions"] == [
        about(question, None) | withheld_counts(question) for question in survey["questions"]
    ]


def withheld_counts(question: dict[str, Any]) -> dict[str, Any]:
    """The counts of a withheld question: all there, none shown."""
    if question["kind"] == "rating":
        return {"ratings": [{"rating": rating, **WITHHELD} for rating in range(1, question["scale"] + 1)]}
    if question["kind"] == "text":
        return {}
    return {"choices": [{"choice": choice, **WITHHELD} for choice in question["choices"]]}


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
    assert without_request_id(elsewhere) == without_request_id(missing)
