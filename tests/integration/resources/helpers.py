"""Shared steps of the resource API tests: callers' headers, surveys made through the API or in another tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, TypeVar

from tabular.db import Organization, Question, QuestionKind, Survey, SurveyStatus, Tier, Workspace
from tabular.db.config import make_db_config
from tests.conftest import make_settings
from tests.integration.auth.helpers import user

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from httpx import Response
    from litestar import Litestar
    from litestar.testing import AsyncTestClient
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.demo import DemoData

T = TypeVar("T")

QUESTIONS: Final[list[dict[str, Any]]] = [
    {"kind": "single_choice", "text": "Favourite colour?", "choices": ["Red", "Green", "Blue"], "required": True},
    {"kind": "multiple_choice", "text": "Which pets do you have?", "choices": ["Cat", "Dog", "Fish"]},
    {"kind": "rating", "text": "How happy are you?", "scale": 5, "required": True},
    {"kind": "text", "text": "Anything else?"},
]


def key(demo: DemoData, role: str, index: int = 0) -> dict[str, str]:
    """The API-key header of a demo user: admin, member (0: workspace 1, 1: workspace 2) or client."""
    api_key = user(demo, role, index).api_key
    assert api_key
    return {"X-API-Key": api_key}


def fields_of(response: Response) -> tuple[int, list[str]]:
    """A problem's status and the fields its errors point at ("" for an error without a field)."""
    body = response.json()
    return response.status_code, [error.get("field", "") for error in body.get("errors") or []]


def workspace(demo: DemoData, index: int) -> str:
    return demo.workspaces[index].id


def demo_survey(demo: DemoData, title: str) -> str:
    return next(survey.id for survey in demo.surveys if survey.title == title)


async def create_survey(
    client: AsyncTestClient[Litestar],
    headers: dict[str, str],
    workspace_id: str,
    *,
    questions: list[dict[str, Any]] | None = None,
    publish: bool = False,
) -> dict[str, Any]:
    body = {"title": "Pets and colours", "description": "A test survey.", "questions": QUESTIONS}
    if questions is not None:
        body["questions"] = questions
    response = await client.post("/api/surveys", params={"workspace_id": workspace_id}, json=body, headers=headers)
    assert response.status_code == 201, response.text
    survey: dict[str, Any] = response.json()
    if publish:
        published = await client.post(f"/api/surveys/{survey['id']}/publish", headers=headers)
        assert published.status_code == 200, published.text
        survey = published.json()
    return survey


async def in_database(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction on the test database, outside the app."""
    config = make_db_config(make_settings(database_url))
    try:
        async with config.get_session() as session, session.begin():
            return await work(session)
    finally:
        await config.get_engine().dispose()


async def foreign_survey(database_url: str) -> tuple[str, str]:
    """A published survey in a workspace of another organization: (survey id, workspace id)."""

    async def make(session: AsyncSession) -> tuple[str, str]:
        organization = Organization(name="Elsewhere Research", tier=Tier.PRO)
        session.add(organization)
        await session.flush()
        elsewhere = Workspace(organization_id=organization.id, name="Elsewhere")
        session.add(elsewhere)
        await session.flush()
        survey = Survey(
            workspace_id=elsewhere.id,
            title="Someone else's survey",
            status=SurveyStatus.PUBLISHED,
            questions=[Question(position=0, kind=QuestionKind.RATING, text="Rate us", scale=5, required=True)],
        )
        session.add(survey)
        await session.flush()
        return str(survey.id), str(elsewhere.id)

    return await in_database(database_url, make)
