"""What the resource API tests share: the fields of each view, and valid bodies for a test to vary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from tests.support.clients import Client

PAGE_FIELDS: Final = {"items", "total", "limit", "offset"}
WORKSPACE_FIELDS: Final = {"id", "name", "member_count", "created_at", "updated_at"}
MEMBER_FIELDS: Final = {"user_id", "email", "name", "role", "active", "added_at"}
USER_FIELDS: Final = {
    "id",
    "email",
    "name",
    "role",
    "active",
    "password_set",
    "mfa_enabled",
    "workspace_ids",
    "created_at",
    "updated_at",
}
CREATED_USER_FIELDS: Final = USER_FIELDS | {"set_password_token", "set_password_expires_at"}
PASSWORD: Final = "a long enough passphrase"
"""A password the rules accept, for users made through `/api/users`."""


def user_body(**fields: Any) -> dict[str, Any]:
    """A valid `POST /api/users` body (a member without a password), with `fields` changed."""
    return {"email": "new.person@demo.tabular.test", "name": "New Person", "role": "member"} | fields


def names(page: dict[str, Any]) -> list[str]:
    """The names of a page of workspaces, dashboards or reports, in order."""
    return [item["name"] for item in page["items"]]


QUESTIONS: Final[list[dict[str, Any]]] = [
    {"kind": "single_choice", "text": "Favourite colour?", "choices": ["Red", "Green", "Blue"], "required": True},
    {"kind": "multiple_choice", "text": "Which pets do you have?", "choices": ["Cat", "Dog", "Fish"]},
    {"kind": "rating", "text": "How happy are you?", "scale": 5, "required": True},
    {"kind": "text", "text": "Anything else?"},
]
"""The questions of a survey made through the API by `create_survey`: one of each kind."""


def titles(page: dict[str, Any]) -> set[str]:
    """The titles of a page of surveys."""
    return {item["title"] for item in page["items"]}


def choice_question(**fields: Any) -> dict[str, Any]:
    """A valid single-choice question of a survey body, with `fields` changed."""
    return {"kind": "single_choice", "text": "Pick one", "choices": ["A", "B"]} | fields


async def create_survey(
    client: Client,
    headers: dict[str, str],
    workspace_id: str,
    *,
    questions: list[dict[str, Any]] | None = None,
    publish: bool = False,
) -> dict[str, Any]:
    """A survey made (and published, if asked) through the API; its JSON."""
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


def submission(survey: dict[str, Any]) -> dict[str, Any]:
    """A respondent's body for a survey of `QUESTIONS` (its public form or its JSON): the colour and the rating,
    the required ones."""
    colour, _, rating, _ = (question["id"] for question in survey["questions"])
    return {"answers": [{"question_id": colour, "choice": "Red"}, {"question_id": rating, "rating": 3}]}


async def answer_survey(client: Client, survey: dict[str, Any]) -> str:
    """A respondent's `submission`, without credentials; the new response's id."""
    submitted = await client.post(f"/api/public/surveys/{survey['id']}/responses", json=submission(survey))
    assert submitted.status_code == 201, submitted.text
    return str(submitted.json()["id"])


async def create_dashboard(client: Client, headers: dict[str, str], workspace_id: str, survey_ids: list[str]) -> str:
    """A dashboard over these surveys, made through the API; its id."""
    body = {"name": "Numbers for the client", "survey_ids": survey_ids}
    response = await client.post("/api/dashboards", params={"workspace_id": workspace_id}, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
