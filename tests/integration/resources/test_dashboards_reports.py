"""Dashboards and reports: CRUD in a workspace; a dashboard shows its surveys' metrics and nothing more."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tabular.demo import DemoData, DemoUser
from tests.support.clients import api_key, user

pytestmark = pytest.mark.anyio

KINDS = [("/api/dashboards", "widgets"), ("/api/reports", "config")]


def home(demo: DemoData, who: DemoUser) -> tuple[str, list[str]]:
    """The member's workspace and its surveys."""
    workspace = who.workspace_ids[0]
    return workspace, [survey.id for survey in demo.surveys if survey.workspace_id == workspace]


@pytest.mark.parametrize(("path", "settings_field"), KINDS)
async def test_crud_in_a_workspace(
    client: AsyncTestClient[Litestar], demo: DemoData, path: str, settings_field: str
) -> None:
    member = user(demo, "member")
    workspace, surveys = home(demo, member)
    body = {"name": " Weekly ", "survey_ids": surveys[:1], settings_field: {"period": "week"}}
    created = await client.post(path, params={"workspace_id": workspace}, json=body, headers=api_key(member))
    assert created.status_code == 201, created.text
    item: dict[str, Any] = created.json()
    assert (item["name"], item["workspace_id"], item["survey_ids"]) == ("Weekly", workspace, surveys[:1])
    assert item[settings_field] == {"period": "week"}

    listed = await client.get(path, params={"workspace_id": workspace}, headers=api_key(member))
    assert item["id"] in {row["id"] for row in listed.json()["items"]}

    changed = await client.patch(f"{path}/{item['id']}", json={"name": "Monthly"}, headers=api_key(member))
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()[settings_field]) == ("Monthly", {"period": "week"})

    assert (await client.delete(f"{path}/{item['id']}", headers=api_key(member))).status_code == 204
    assert (await client.get(f"{path}/{item['id']}", headers=api_key(member))).status_code == 404


@pytest.mark.parametrize(("path", "_"), KINDS)
async def test_surveys_must_be_of_the_same_workspace(
    client: AsyncTestClient[Litestar], demo: DemoData, path: str, _: str
) -> None:
    member = user(demo, "member")
    workspace, _surveys = home(demo, member)
    elsewhere = next(survey.id for survey in demo.surveys if survey.workspace_id != workspace)
    response = await client.post(
        path,
        params={"workspace_id": workspace},
        json={"name": "x", "survey_ids": [elsewhere, str(uuid.uuid4())]},
        headers=api_key(member),
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["survey_ids[0]", "survey_ids[1]"]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 201}, {"name": "x", "extra": 1}, {"name": 3}, {"name": "x", "survey_ids": "a"}],
    ids=["empty", "blank-name", "long-name", "unknown-field", "wrong-type", "ids-not-a-list"],
)
@pytest.mark.parametrize(("path", "_"), KINDS)
async def test_bad_input_is_a_4xx_problem(
    client: AsyncTestClient[Litestar], demo: DemoData, path: str, _: str, body: dict[str, Any]
) -> None:
    member = user(demo, "member")
    workspace, _surveys = home(demo, member)
    response = await client.post(path, params={"workspace_id": workspace}, json=body, headers=api_key(member))
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_client_sees_a_dashboards_numbers_and_nothing_else(
    client: AsyncTestClient[Litestar], demo: DemoData
) -> None:
    viewer = user(demo, "client")
    dashboards = (await client.get("/api/dashboards", headers=api_key(viewer))).json()["items"]
    assert dashboards
    detail = await client.get(f"/api/dashboards/{dashboards[0]['id']}", headers=api_key(viewer))
    assert detail.status_code == 200
    body = detail.json()
    assert [metrics["survey_id"] for metrics in body["metrics"]] == body["survey_ids"]
    assert any(metrics["total"] > 0 for metrics in body["metrics"])
    for forbidden in (b"respondent", b"@example.com", b"keep it up"):
        assert forbidden not in detail.content  # no names, emails or free text reach a client
    survey = body["survey_ids"][0]
    assert (await client.get(f"/api/surveys/{survey}", headers=api_key(viewer))).status_code == 403
    assert (await client.get(f"/api/surveys/{survey}/metrics/responses", headers=api_key(viewer))).status_code == 403
    assert (await client.get("/api/reports", headers=api_key(viewer))).status_code == 403


async def test_a_dashboard_skips_a_deleted_survey(client: AsyncTestClient[Litestar], demo: DemoData) -> None:
    member = user(demo, "member")
    workspace, surveys = home(demo, member)
    created = await client.post(
        "/api/dashboards",
        params={"workspace_id": workspace},
        json={"name": "x", "survey_ids": surveys},
        headers=api_key(member),
    )
    assert (await client.delete(f"/api/surveys/{surveys[0]}", headers=api_key(member))).status_code == 204
    detail = (await client.get(f"/api/dashboards/{created.json()['id']}", headers=api_key(member))).json()
    assert [metrics["survey_id"] for metrics in detail["metrics"]] == surveys[1:]
