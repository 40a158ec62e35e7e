"""One rule per kind of text, the same on create and update, on SQLite and PostgreSQL.

Names, titles and choices are one trimmed, non-blank line without control characters; free text may break
lines but holds no other control character; free-form JSON (widgets, config) holds no NUL (PostgreSQL's
JSONB refuses it). Each broken rule is a 422 naming the field, never a 201 or a 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from httpx import AsyncClient

    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio

BAD_LINES = ["bad\u0007name", "nul\u0000name", "tab\tname", "line\nbreak", "   ", ""]
"""Each breaks the one-line rule: a control character (bell, NUL, tab, line break), or nothing but blanks."""


async def _created(client: AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [error["field"] for error in body["errors"]] == [field], body


def _admin(demo: DemoData) -> dict[str, str]:
    return {"X-API-Key": next(person.api_key for person in demo.users if person.role == "admin")}


def _resources(demo: DemoData) -> list[tuple[str, str, str]]:
    """(collection, query for a create, the name field) of each kind with a name."""
    in_workspace = f"?workspace_id={demo.workspaces[0].id}"
    return [
        ("/api/workspaces", "", "name"),
        ("/api/dashboards", in_workspace, "name"),
        ("/api/reports", in_workspace, "name"),
        ("/api/surveys", in_workspace, "title"),
    ]


async def test_a_name_breaking_the_line_rule_is_refused_on_create_and_on_update(
    client: AsyncClient, demo: DemoData
) -> None:
    admin = _admin(demo)
    for collection, query, field in _resources(demo):
        existing = await _created(client, collection + query, {field: f"Valid {collection}"}, admin)
        for bad in BAD_LINES:
            _refused(await client.post(collection + query, json={field: bad}, headers=admin), field)
            _refused(await client.patch(f"{collection}/{existing['id']}", json={field: bad}, headers=admin), field)
        unchanged = await client.get(f"{collection}/{existing['id']}", headers=admin)
        assert unchanged.json()[field] == f"Valid {collection}"


async def test_surrounding_spaces_are_trimmed_on_create_and_on_update(client: AsyncClient, demo: DemoData) -> None:
    admin = _admin(demo)
    for collection, query, field in _resources(demo):
        created = await _created(client, collection + query, {field: f"  Padded {collection}  "}, admin)
        assert created[field] == f"Padded {collection}"
        renamed = await client.patch(
            f"{collection}/{created['id']}", json={field: f" Renamed {collection} "}, headers=admin
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()[field] == f"Renamed {collection}"


async def test_free_text_keeps_line_breaks_but_no_other_control_character(client: AsyncClient, demo: DemoData) -> None:
    admin = _admin(demo)
    surveys = f"/api/surveys?workspace_id={demo.workspaces[0].id}"
    question = {"kind": "text", "text": "Why?\nTell us."}
    created = await _created(
        client, surveys, {"title": "T", "description": "Two\nlines\tand a tab", "questions": [question]}, admin
    )
    assert (created["description"], created["questions"][0]["text"]) == ("Two\nlines\tand a tab", "Why?\nTell us.")
    path = f"/api/surveys/{created['id']}"
    for bad in ("bell\u0007", "nul\u0000"):
        _refused(await client.post(surveys, json={"title": "T", "description": bad}, headers=admin), "description")
        _refused(await client.patch(path, json={"description": bad}, headers=admin), "description")
        body = {"questions": [{"kind": "text", "text": bad}]}
        _refused(await client.patch(path, json=body, headers=admin), "questions[0].text")


async def test_nul_in_free_form_json_is_refused_on_create_and_on_update(client: AsyncClient, demo: DemoData) -> None:
    admin = _admin(demo)
    in_workspace = f"?workspace_id={demo.workspaces[0].id}"
    for collection, field in (("/api/dashboards", "widgets"), ("/api/reports", "config")):
        existing = await _created(client, collection + in_workspace, {"name": "Holds JSON"}, admin)
        for bad in ({"title": "nul\u0000"}, {"nul\u0000key": 1}, {"nested": [{"deep": "\u0000"}]}):
            create = await client.post(collection + in_workspace, json={"name": "X", field: bad}, headers=admin)
            update = await client.patch(f"{collection}/{existing['id']}", json={field: bad}, headers=admin)
            for response in (create, update):
                assert response.status_code == 422, response.text
                assert field in response.json()["errors"][0]["message"]
        fine = await client.patch(
            f"{collection}/{existing['id']}", json={field: {"bell": "\u0007 is stored"}}, headers=admin
        )
        assert fine.status_code == 200, fine.text


async def test_an_email_breaking_the_rule_is_refused_where_one_is_given(client: AsyncClient, demo: DemoData) -> None:
    admin = _admin(demo)
    for bad in ("no-at-sign", "two@@example.com", "nul\u0000@example.com", "spaced out@example.com", "a@b"):
        body = {"email": bad, "name": "New", "role": "member", "password": "a-long-enough-password"}
        _refused(await client.post("/api/users", json=body, headers=admin), "email")
        survey = demo.surveys[0].id
        answer = {"answers": [], "respondent_email": bad}
        _refused(await client.post(f"/api/public/surveys/{survey}/responses", json=answer), "respondent_email")
