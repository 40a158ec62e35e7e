"""The OpenAPI document tells the truth, and its pages need no other host.

Schemathesis and a generated client check the document against the running API (tests/contract/); these
check what it must say from the declarations: every error a Problem, the rate-limit headers, the cookies,
public operations marked public, short unique operation ids, and documentation pages that load nothing
from elsewhere.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from tabular.routes.docs import REDOC, SWAGGER_UI
from tests.support.clients import key

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

PROBLEM = {"$ref": "#/components/schemas/Problem"}
RATE_LIMIT_HEADERS = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "RateLimit"}
NOT_LIMITED = {"/api/health", "/api/ready"}


async def _operations(client: Client) -> list[tuple[str, str, dict[str, Any]]]:
    document = (await client.get("/schema/openapi.json")).json()
    return [(method, path, operation) for path, item in document["paths"].items() for method, operation in item.items()]


async def test_every_error_answer_is_a_problem_and_litestars_default_is_gone(client: Client) -> None:
    for method, path, operation in await _operations(client):
        errors = {code: answer for code, answer in operation["responses"].items() if code.startswith("4")}
        assert {"400"} <= set(errors), f"{method} {path}: a repeated query parameter is a 400 everywhere"
        for code, answer in errors.items():
            assert answer["content"] == {"application/problem+json": {"schema": PROBLEM}}, f"{method} {path} {code}"
            assert answer["description"], f"{method} {path} {code}"
        assert "500" not in operation["responses"]
        if "requestBody" in operation:
            assert {"413", "415", "422"} <= set(errors), f"{method} {path} takes a body"


async def test_limited_operations_document_their_headers_and_429(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert RATE_LIMIT_HEADERS | {"Retry-After", "Set-Cookie"} <= set(document["components"]["headers"])
    for method, path, operation in await _operations(client):
        responses = operation["responses"]
        if path in NOT_LIMITED:
            assert "429" not in responses
            assert all(not set(answer.get("headers", {})) & RATE_LIMIT_HEADERS for answer in responses.values())
            continue
        assert set(responses["429"]["headers"]) == RATE_LIMIT_HEADERS | {"Retry-After"}, f"{method} {path}"
        for code, answer in responses.items():
            assert set(answer["headers"]) >= RATE_LIMIT_HEADERS, f"{method} {path} {code}"


async def test_every_operation_that_needs_the_database_documents_its_503(client: Client) -> None:
    """A database outage is a 503 with `Retry-After` wherever it can happen; the liveness probe never meets one."""
    for method, path, operation in await _operations(client):
        responses = operation["responses"]
        if path == "/api/health":
            assert "503" not in responses
        elif path == "/api/ready":  # its own 503: the readiness body, not a problem
            assert "application/json" in responses["503"]["content"], responses["503"]
        else:
            answer = responses["503"]
            assert answer["content"] == {"application/problem+json": {"schema": PROBLEM}}, f"{method} {path}"
            assert "database_unavailable" in answer["description"], f"{method} {path}"
            assert "Retry-After" in answer["headers"], f"{method} {path}"


async def test_the_operations_that_set_the_session_cookie_say_so(client: Client) -> None:
    setting = {
        (method, path)
        for method, path, operation in await _operations(client)
        for code, answer in operation["responses"].items()
        if "Set-Cookie" in answer.get("headers", {}) and code.startswith("2")
    }
    expected = {("post", "/api/auth"), ("post", "/api/auth/password"), ("post", "/api/auth/mfa/confirm")}
    assert setting == expected


async def test_public_operations_are_marked_public_and_the_others_name_their_credentials(client: Client) -> None:
    for method, path, operation in await _operations(client):
        policy = operation["x-tabular-policy"]
        if policy.get("public"):
            assert policy == {"public": True}
            assert operation["security"] == [], f"{method} {path}"
            assert "401" not in operation["responses"] or path in {"/api/auth", "/api/users/set-password"}
        else:
            assert operation["security"] == [{"apiKey": []}, {"bearer": []}, {"cookie": []}], f"{method} {path}"


async def test_operation_ids_are_short_unique_and_camel_cased(client: Client) -> None:
    ids = [operation["operationId"] for _, _, operation in await _operations(client)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", operation_id) for operation_id in ids), ids
    assert {"listSurveys", "getSurvey", "createSurvey", "createApiKey", "whoAmI", "getResponseMetrics"} <= set(ids)


async def test_every_operation_is_described(client: Client) -> None:
    for method, path, operation in await _operations(client):
        assert operation.get("summary"), f"{method} {path}"
        assert operation.get("description"), f"{method} {path}: the handler's docstring"


async def test_a_too_large_offset_is_a_422_naming_it(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    for path in ("/api/workspaces", "/api/surveys", "/api/users", "/api/audit", "/api/dashboards"):
        for offset in ("2747251364080486187008", "1000000001", "-1"):
            response = await client.get(path, params={"offset": offset}, headers=admin)
            assert response.status_code == 422, (path, offset, response.text)
            assert [error["field"] for error in response.json()["errors"]] == ["offset"]
        at_the_end = await client.get(path, params={"offset": "1000000000"}, headers=admin)
        assert at_the_end.status_code == 200, at_the_end.text
        assert at_the_end.json()["items"] == []


async def test_the_documentation_pages_load_nothing_from_another_host(client: Client) -> None:
    for page in ("/", "/schema/redoc", "/schema/swagger"):
        response = await client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert not [source for source in sources if re.match(r"(?:https?:)?//", source)], (page, sources)
        assert "fonts.googleapis" not in html
        for source in sources:
            if source.startswith("/schema/assets/"):
                asset = await client.get(source)
                assert asset.status_code == 200, source
                assert asset.headers["content-type"].split(";")[0] in {"text/javascript", "text/css"}
                assert not re.search(rb"@import\s+url\(\s*['\"]?https?:", asset.content), source
    landing = (await client.get("/")).text
    assert {"/schema/redoc", "/schema/swagger", "/schema/openapi.json"} <= set(re.findall(r'href="([^"]+)"', landing))
    for bundle in (REDOC, SWAGGER_UI):
        licence = await client.get(f"{bundle}/LICENSE")
        assert licence.status_code == 200
        assert licence.headers["cache-control"] == "max-age=86400, public", "named by version: cached a day"


async def test_every_schema_is_described_and_the_enums_are_enums(client: Client) -> None:
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    assert [name for name, schema in schemas.items() if not schema.get("description")] == []
    who = schemas["WhoAmI"]["properties"]
    for field in ("role", "tier", "credential"):
        assert "$ref" in who[field] or "enum" in who[field], (field, who[field])
    count = schemas["ChoiceCount"]["properties"]
    assert count["suppressed"]["type"] == "boolean"
    assert {option.get("type") for option in count["count"]["oneOf"]} == {"integer", "null"}


async def test_a_number_past_its_range_in_a_body_is_a_422_naming_it(client: Client, demo: DemoData) -> None:
    survey = next(s.id for s in demo.surveys if s.title == "Customer satisfaction 2026")
    question = (await client.get(f"/api/surveys/{survey}", headers=key(demo, "admin"))).json()["questions"][0]
    for rating in (10**30, 11, 0):
        answers = {"answers": [{"question_id": question["id"], "rating": rating}]}
        refused = await client.post(f"/api/public/surveys/{survey}/responses", json=answers)
        assert refused.status_code == 422, (rating, refused.text)
        assert [error["field"] for error in refused.json()["errors"]] == ["answers[0].rating"]


async def test_the_operations_that_need_a_recent_password_say_so(client: Client) -> None:
    """The policy's `recent_password` steps, and only those, are marked; their 403 names the codes to expect."""
    marked = {
        (method, path): operation
        for method, path, operation in await _operations(client)
        if operation["x-tabular-policy"].get("recent_password")
    }
    assert set(marked) == {
        ("post", "/api/auth/password"),
        ("post", "/api/auth/mfa/setup"),
        ("post", "/api/auth/mfa/confirm"),
        ("post", "/api/auth/mfa/disable"),
        ("post", "/api/auth/mfa/recovery-codes"),
        ("post", "/api/keys"),
        ("post", "/api/keys/{key_id}/rotate"),
    }
    for (method, path), operation in marked.items():
        forbidden = operation["responses"]["403"]["description"]
        if path == "/api/auth/password":  # the current password in its body is the proof
            assert "current_password" in forbidden
        else:
            assert "`password_required`" in forbidden, f"{method} {path}"
