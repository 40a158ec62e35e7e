"""`GET /api/surveys`: what each role lists, filters, stable pages, no N+1, another workspace or tenant."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.clients import fields_of, key, without_request_id, workspace
from tests.support.db import selects, statements_run_by
from tests.support.resources import titles

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


DEMO_TITLES = {"Customer satisfaction 2026", "Onboarding feedback", "Feature priorities", "Beta exit survey"}


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
    counts = []
    with statements_run_by(app.state.db_config.get_engine().sync_engine) as statements:
        for limit in (1, 4):
            statements.clear()
            response = await client.get("/api/surveys", params={"limit": limit}, headers=key(demo, "admin"))
            assert len(response.json()["items"]) == limit
            counts.append(selects(statements))
    assert counts[0] == counts[1]


async def test_list_scoped_to_another_workspace_or_tenant(
    client: AsyncTestClient[Litestar], demo: DemoData, other_tenant: Tenant
) -> None:
    foreign_workspace = str(other_tenant.workspace_id)
    headers = key(demo, "member", 0)
    other = await client.get("/api/surveys", params={"workspace_id": workspace(demo, 1)}, headers=headers)
    assert other.status_code == 403
    assert other.json()["code"] == "not_a_member"
    elsewhere = await client.get("/api/surveys", params={"workspace_id": foreign_workspace}, headers=headers)
    missing = await client.get("/api/surveys", params={"workspace_id": str(uuid.uuid4())}, headers=headers)
    assert elsewhere.status_code == missing.status_code == 404
    assert without_request_id(elsewhere) == without_request_id(missing)
    admin = await client.get("/api/surveys", headers=key(demo, "admin"))
    assert "Someone else's survey" not in titles(admin.json())
