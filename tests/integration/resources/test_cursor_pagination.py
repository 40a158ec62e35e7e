"""Cursor paging of responses and of the audit log: signed, opaque, in the body and a `Link`, stable under inserts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tabular.db import Workspace
from tests.support.clients import Client, app_client, assert_problem, demo_survey, fields_of, key, ok, workspace
from tests.support.db import committed_session
from tests.support.factories import new_response, new_survey
from tests.support.resources import PAGE_FIELDS

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


def responses_path(survey_id: str) -> str:
    return f"/api/surveys/{survey_id}/responses"


async def every_page(
    client: Client, path: str, headers: dict[str, str], params: dict[str, Any], between: Any = None
) -> list[dict[str, Any]]:
    """The pages of a list followed by their `Link` headers, calling `between()` after each page."""
    pages = [await client.get(path, params=params, headers=headers)]
    while "link" in pages[-1].headers:
        assert pages[-1].json()["next"] is not None
        if between is not None:
            await between()
        target, relation = pages[-1].headers["link"].split("; ")
        assert relation == 'rel="next"'
        pages.append(await client.get(target.strip("<>"), headers=headers))
    assert pages[-1].json()["next"] is None
    return [ok(page) for page in pages]


async def submit_one(client: Client, demo: DemoData, survey_id: str) -> None:
    """A new public response to a demo survey (its rating question is the only one it needs)."""
    survey = ok(await client.get(responses_path(survey_id).removesuffix("/responses"), headers=key(demo, "admin")))
    answers = [
        {"question_id": question["id"], "choice": question["choices"][0]}
        if question["kind"] == "single_choice"
        else {"question_id": question["id"], "rating": 1}
        for question in survey["questions"]
        if question["required"]
    ]
    submitted = await client.post(f"/api/public/surveys/{survey_id}/responses", json={"answers": answers})
    assert submitted.status_code == 201, submitted.text


async def test_responses_page_by_cursor_without_repeating_or_skipping_while_new_ones_arrive(
    client: Client, demo: DemoData
) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")
    member = key(demo, "member", 0)
    before = [item["id"] for item in ok(await client.get(responses_path(survey_id), params={"limit": 200},
                                                          headers=member))["items"]]  # fmt: skip

    async def a_new_response() -> None:
        await submit_one(client, demo, survey_id)

    pages = await every_page(client, responses_path(survey_id), member, {"limit": 5}, between=a_new_response)

    assert [len(page["items"]) for page in pages] == [5, 5, 5, 5, 4]
    assert [item["id"] for page in pages for item in page["items"]] == before
    assert set(pages[0]) == PAGE_FIELDS | {"next"}
    assert [page["total"] for page in pages] == [24, 25, 26, 27, 28]  # the whole list, as it is at each call
    assert all(page["offset"] == 0 for page in pages)


async def test_the_link_keeps_the_query_and_an_offset_page_continues_by_cursor(client: Client, demo: DemoData) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")
    member = key(demo, "member", 0)
    everything = ok(await client.get(responses_path(survey_id), params={"limit": 200}, headers=member))["items"]

    first = await client.get(responses_path(survey_id), params={"limit": 3, "offset": 10}, headers=member)

    body = ok(first)
    assert first.headers["link"] == f'<{responses_path(survey_id)}?limit=3&cursor={body["next"]}>; rel="next"'
    after = ok(await client.get(responses_path(survey_id), params={"limit": 3, "cursor": body["next"]}, headers=member))
    assert [item["id"] for item in body["items"] + after["items"]] == [item["id"] for item in everything[10:16]]
    last = await client.get(responses_path(survey_id), params={"limit": 200}, headers=member)
    assert "link" not in last.headers
    assert ok(last)["next"] is None


async def test_responses_made_in_the_same_instant_are_ordered_by_id(
    client: Client, demo: DemoData, database_url: str
) -> None:
    moment = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    async with committed_session(database_url) as session:
        home = await session.get(Workspace, uuid.UUID(workspace(demo, 0)))
        assert home is not None
        survey = await new_survey(session, home)
        made = [str((await new_response(session, survey, created_at=moment)).id) for _ in range(7)]
    pages = await every_page(client, responses_path(str(survey.id)), key(demo, "admin"), {"limit": 2})
    assert [item["id"] for page in pages for item in page["items"]] == sorted(made, reverse=True)


async def test_the_audit_log_pages_by_cursor_while_events_are_recorded(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    before = [item["seq"] for item in ok(await client.get("/api/audit", params={"limit": 200}, headers=admin))["items"]]
    made = 0

    async def an_event() -> None:
        nonlocal made
        made += 1
        ok(await client.post("/api/workspaces", json={"name": f"Between pages {made}"}, headers=admin), 201)

    pages = await every_page(client, "/api/audit", admin, {"limit": 4}, between=an_event)

    assert [item["seq"] for page in pages for item in page["items"]] == before
    assert made == len(pages) - 1 > 1
    filtered = await every_page(client, "/api/audit", admin, {"limit": 1, "event": "workspace.created"})
    seqs = [item["seq"] for page in filtered for item in page["items"]]
    assert len(seqs) >= made
    assert {item["event"] for page in filtered for item in page["items"]} == {"workspace.created"}
    assert seqs == sorted(seqs, reverse=True)


async def test_a_cursor_that_is_tampered_with_or_from_elsewhere_is_a_422_naming_it(
    client: Client, demo: DemoData, database_url: str
) -> None:
    survey_id = demo_survey(demo, "Customer satisfaction 2026")
    other_survey = demo_survey(demo, "Feature priorities")
    admin = key(demo, "admin")
    cursor = ok(await client.get(responses_path(survey_id), params={"limit": 2}, headers=admin))["next"]
    audit_cursor = ok(await client.get("/api/audit", params={"limit": 1}, headers=admin))["next"]
    head, claims, signature = cursor.split(".")
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    async with app_client(database_url, secret_key="another-server-secret-" + "x" * 40) as elsewhere:
        foreign = ok(await elsewhere.get(responses_path(survey_id), params={"limit": 2}, headers=admin))["next"]
    refused = {
        "signature changed": (responses_path(survey_id), f"{head}.{claims}.{flipped}"),
        "claims changed": (responses_path(survey_id), f"{head}.{claims[:-2]}AA.{signature}"),
        "not a token": (responses_path(survey_id), "after-2026-01-01"),
        "another survey's list": (responses_path(other_survey), cursor),
        "the audit log's": (responses_path(survey_id), audit_cursor),
        "a responses cursor on the audit log": ("/api/audit", cursor),
        "signed by another server": (responses_path(survey_id), foreign),
    }
    answers = {}
    for case, (path, value) in refused.items():
        response = await client.get(path, params={"cursor": value}, headers=admin)
        assert_problem(response, 422, "validation_failed")
        answers[case] = fields_of(response)
    assert answers == dict.fromkeys(refused, (422, ["cursor"]))
    both = await client.get(responses_path(survey_id), params={"cursor": cursor, "offset": 2}, headers=admin)
    assert fields_of(both) == (422, ["offset"])
    too_long = await client.get(responses_path(survey_id), params={"cursor": "x" * 2001}, headers=admin)
    assert fields_of(too_long) == (422, ["cursor"])


async def test_the_openapi_document_names_the_cursor_the_link_and_next(client: Client) -> None:
    document = ok(await client.get("/schema/openapi.json"))
    for path in ("/api/surveys/{survey_id}/responses", "/api/audit"):
        operation = document["paths"][path]["get"]
        assert "cursor" in {parameter["name"] for parameter in operation["parameters"]}, path
        assert operation["responses"]["200"]["headers"]["Link"]["schema"] == {"type": "string"}, path
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert "next" in document["components"]["schemas"][body]["properties"], path
