"""Attack: SQL injection and LIKE wildcards through query parameters, path ids, the sign-in email and names.

Every query parameter of every operation in the OpenAPI document (so a new one is covered without touching
this file) and every path parameter gets `' OR 1=1 --`, `%`, `_`, `\\` and friends: a 4xx problem, or a list
of nothing (no row is called that, in this organization or the other one there), never a 500, and nothing
written. A sign-in email made of wildcards matches no one; names made of them are stored and compared as
the characters they are (a `%` workspace does not collide with every other name, as it would under LIKE).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from tests.support.clients import assert_client_error, key, ok, password_sign_in, workspace
from tests.support.db import committed_session, every_row, open_database
from tests.support.factories import new_tenant
from tests.support.sessions import new_account
from tests.support.webhooks import register

if TYPE_CHECKING:
    from httpx import Response

    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

PAYLOADS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '" OR ""="',
    "1; DROP TABLE survey; --",
    "' UNION SELECT email, password_hash FROM user_account --",
    "%",
    "_",
    "%%",
    "\\",
    "\\%",
    "\\'",
    "*",
    "00000000-0000-0000-0000-000000000000' OR '1'='1",
    "\x00",
]


async def _path_values(client: Client, demo: DemoData, admin: dict[str, str]) -> dict[str, str]:
    """A real id for each path parameter, so only the parameter under attack is wrong."""

    async def first(path: str) -> str:
        return str(ok(await client.get(path, headers=admin))["items"][0]["id"])

    return {
        "survey_id": demo.surveys[0].id,
        "workspace_id": workspace(demo, 0),
        "dashboard_id": await first("/api/dashboards"),
        "report_id": await first("/api/reports"),
        "user_id": await first("/api/users"),
        "key_id": ok(await client.get("/api/auth", headers=admin))["data"]["key_id"],
        "endpoint_id": (await register(client, admin, workspace(demo, 0), "https://93.184.216.34/hook"))["id"],
    }


def _operations(document: dict[str, Any]) -> list[tuple[str, str, list[str], list[str]]]:
    """(METHOD, path, its path parameters, its query parameters) of every operation that has either."""
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            in_path = [p["name"] for p in parameters if p["in"] == "path"]
            in_query = [p["name"] for p in parameters if p["in"] == "query"]
            if in_path or in_query:
                found.append((method.upper(), path, in_path, in_query))
    return found


def _rows(response: Response) -> int | None:
    body = response.json() if response.content else None
    return body.get("total", len(body.get("items", []))) if isinstance(body, dict) and "items" in body else None


async def test_every_parameter_takes_sql_metacharacters_as_literals(
    client: Client, demo: DemoData, database_url: str
) -> None:
    async with committed_session(database_url) as session:
        await new_tenant(session)  # rows an injection could widen a list to
    admin = key(demo, "admin")
    operations = _operations(ok(await client.get("/schema/openapi.json")))
    values = await _path_values(client, demo, admin)
    mistakes: list[str] = []
    async with open_database(database_url) as database:
        before = await every_row(database, ignore=("api_key.last_used_at",))
        for method, path, in_path, in_query in operations:
            for payload in PAYLOADS:
                attacks = [(f"?{name}=", _filled(path, values), {name: payload}) for name in in_query]
                attacks += [
                    (f"{{{name}}}", _filled(path, values | {name: quote(payload, safe="")}), {}) for name in in_path
                ]
                for where, url, params in attacks:
                    answer = await client.request(method, url, params=params, headers=admin)
                    if answer.status_code >= 500 or (answer.status_code >= 400 and not _is_problem(answer)):
                        mistakes.append(f"{method} {path} {where}{payload!r}: {answer.status_code} {answer.text[:200]}")
                    elif answer.status_code < 300 and _rows(answer):  # nothing is called that: any row is too many
                        mistakes.append(f"{method} {path} {where}{payload!r}: {_rows(answer)} rows")
        after = await every_row(database, ignore=("api_key.last_used_at",))
    assert mistakes == []
    assert before == after, "an attack wrote something"
    assert sum(len(query) for *_, query in operations) >= 15, "the document lists the query parameters"


def _filled(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


def _is_problem(response: Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/problem+json")


EMAILS = [
    "%@%.%",
    "_@_._",
    "%@example.com",
    "x' OR '1'='1@example.com",
    "' OR 1=1 --@example.com",
    "\\@\\.\\",
]


async def test_a_sign_in_email_of_wildcards_or_sql_matches_no_one(client: Client, database_url: str) -> None:
    """With the right password of a user without MFA (a match would sign in, or say `mfa_required`): the
    email must be that user's exactly, or it is the answer for a wrong email."""
    target = await new_account(database_url, "wild.target@example.com")
    near = [target.email.replace("w", "_", 1), "wild%@example.com", f"{target.email}' --", f"{target.email}%"]
    for email in [*EMAILS, *near]:
        answer = await password_sign_in(client, email, target.password)
        assert_client_error(answer, email)
        assert (answer.status_code, answer.json()["code"]) in {
            (401, "invalid_credentials"),
            (422, "validation_failed"),
        }, email
        assert "set-cookie" not in answer.headers, email


async def test_names_of_wildcards_and_quotes_are_stored_and_compared_as_written(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    names = ["%", "_", "%%", "Customer_Insights", "Customer%", "\\", "\\%", "' OR 1=1 --", "it's", 'say "hi"']
    for name in names:  # none collides with the demo's "Customer Insights", nor with another of these
        created = await client.post("/api/workspaces", json={"name": name}, headers=admin)
        assert created.status_code == 201, (name, created.text)
        assert ok(await client.get(f"/api/workspaces/{created.json()['id']}", headers=admin))["name"] == name
    for name in names:  # and each collides with itself, compared as written
        again = await client.post("/api/workspaces", json={"name": name}, headers=admin)
        assert (again.status_code, again.json()["code"]) == (409, "workspace_name_taken"), name
    listed = ok(await client.get("/api/workspaces", params={"limit": 200}, headers=admin))
    assert sorted(item["name"] for item in listed["items"]) == sorted([*names, "Customer Insights", "Product Research"])
