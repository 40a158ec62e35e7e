"""A typed client generated from the live schema by openapi-python-client works against the live server.

The generator must read the schema without a warning (a warning means an operation or a response is left out of
the client); the client must then sign in, list, read and create surveys, read metrics, and receive a refused
body (422) and a rate-limited request (429) as its `Problem` model rather than an `UnexpectedStatus` error.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pyotp
import pytest

from tests.support.contract import UNLIMITED, Live, live_demo

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType

    from tabular.demo import DemoData

GENERATOR = str(Path(sys.executable).parent / "openapi-python-client")
PACKAGE = "tabular_client"
TIMEOUT = httpx.Timeout(10.0)
RATE_LIMIT = 3
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>")

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class Generated:
    """The generator's console output and the client package it wrote (importable while the module runs)."""

    output: str
    root: Path
    package: ModuleType

    @property
    def models(self) -> Any:
        return importlib.import_module(f"{PACKAGE}.models")

    def endpoint(self, method: str, path: str) -> Any:
        """The generated module of the operation `METHOD path`, found by what it sends, not by its operationId."""
        sends = re.compile(rf'"method":\s*"{method.lower()}",\s*"url":\s*"{re.escape(path)}"')
        for file in sorted((self.root / PACKAGE / "api").rglob("*.py")):
            if sends.search(file.read_text(encoding="utf-8")):
                module = ".".join(file.relative_to(self.root).with_suffix("").parts)
                return importlib.import_module(module)
        pytest.fail(f"the generated client has no function for {method.upper()} {path}")


def warnings_in(output: str) -> list[str]:
    """Each `WARNING …` block of the generator's output as one line: where, then why."""
    blocks = re.split(r"\n(?=WARNING )", output)
    found = []
    for block in blocks[1:]:
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        reason = _OBJECT_REPR.sub("<?>", lines[1]) if len(lines) > 1 else ""
        found.append(f"{lines[0]} {reason}")
    return found


def untyped(value: Any) -> list[Any]:
    """The raw JSON objects inside a parsed answer: a generated parser that cannot fit a model to part of an answer
    hands that part back as it came, without an error, so a client's types are silently wrong."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [raw for item in value for raw in untyped(item)]
    if attrs.has(type(value)):
        fields = [field.name for field in attrs.fields(type(value)) if field.name != "additional_properties"]
        return [raw for name in fields for raw in untyped(getattr(value, name))]
    return []


def answer(call: Callable[..., Any], **arguments: Any) -> Any:
    """`call.sync_detailed(**arguments)`; an answer the client has no model for fails the test with its body."""
    errors = importlib.import_module(f"{PACKAGE}.errors")
    try:
        return call.sync_detailed(**arguments)
    except errors.UnexpectedStatus as error:
        pytest.fail(f"the generated client has no model for {error.status_code}: {error.content[:500]!r}")


@pytest.fixture(scope="module")
def generated(live: Live, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    root = tmp_path_factory.mktemp("generated")
    schema = root / "openapi.json"
    with urllib.request.urlopen(f"{live.base_url}/schema/openapi.json", timeout=10) as response:  # noqa: S310
        schema.write_bytes(response.read())
    command = [GENERATOR, "generate", "--path", str(schema), "--output-path", str(root / PACKAGE), "--meta", "none"]
    # Its post-generation hooks run `ruff` (one of its own dependencies) over the output, as for any user.
    environment = os.environ | {"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield Generated(result.stdout + result.stderr, root, importlib.import_module(PACKAGE))
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def signed_in(live: Live, generated: Generated) -> tuple[Any, str]:
    """The admin signed in once through the generated client (a TOTP code is accepted once): answer and token."""
    admin = live.user("admin")
    body = generated.models.LoginRequest(
        email=admin["email"], password=admin["password"], action="login", otp=pyotp.TOTP(admin["totp_secret"]).now()
    )
    with generated.package.Client(base_url=live.base_url, timeout=TIMEOUT, raise_on_unexpected_status=True) as client:
        response = answer(generated.endpoint("post", "/api/auth"), client=client, body=body)
        token = client.get_httpx_client().cookies.get("auth_token")
    assert response.status_code == 200, response.content
    assert token, "POST /api/auth set no auth_token cookie"
    return response, token


@pytest.fixture
def admin(live: Live, generated: Generated, signed_in: tuple[Any, str]) -> Iterator[Any]:
    client = generated.package.AuthenticatedClient(
        base_url=live.base_url, token=signed_in[1], timeout=TIMEOUT, raise_on_unexpected_status=True
    )
    with client:
        yield client


def test_the_generator_reads_the_live_schema_without_warnings(generated: Generated) -> None:
    found = warnings_in(generated.output)
    if found:
        pytest.fail(f"{len(found)} generator warnings:\n" + "\n".join(found), pytrace=False)
    assert "warning" not in generated.output.lower(), generated.output


def test_a_demo_user_signs_in_with_password_and_code(live: Live, generated: Generated, signed_in: Any) -> None:
    response, _ = signed_in
    assert isinstance(response.parsed, generated.models.LoginResponse)
    assert response.parsed.data.user_email == live.user("admin")["email"]


def test_surveys_are_listed_read_and_created(live: Live, generated: Generated, admin: Any) -> None:
    models = generated.models
    listed = answer(generated.endpoint("get", "/api/surveys"), client=admin)
    assert isinstance(listed.parsed, models.PageSurveyView), listed.content
    assert not untyped(listed.parsed), listed.content
    assert {survey.title for survey in listed.parsed.items} >= {survey["title"] for survey in live.demo["surveys"]}

    first = listed.parsed.items[0]
    read = answer(generated.endpoint("get", "/api/surveys/{survey_id}"), client=admin, survey_id=first.id)
    assert isinstance(read.parsed, models.SurveyView), read.content
    assert read.parsed.id == first.id
    assert not untyped(read.parsed), read.content

    question = models.RatingQuestion(kind="rating", text="How likely are you to recommend us?", scale=5)
    body = models.SurveyCreate(title="Made by a generated client", questions=[question])
    workspace_id = live.demo["workspaces"][0]["id"]
    created = answer(generated.endpoint("post", "/api/surveys"), client=admin, body=body, workspace_id=workspace_id)
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, models.SurveyView), created.content
    assert created.parsed.title == "Made by a generated client"
    assert [q.text for q in created.parsed.questions] == ["How likely are you to recommend us?"]


def test_the_metrics_of_a_survey_with_responses_parse(live: Live, generated: Generated, admin: Any) -> None:
    survey = live.survey("Customer satisfaction 2026")  # seeded with 24 responses
    metrics = answer(
        generated.endpoint("get", "/api/surveys/{survey_id}/metrics/responses"), client=admin, survey_id=survey["id"]
    )
    assert isinstance(metrics.parsed, generated.models.SurveyMetrics), metrics.content
    assert metrics.parsed.total >= 5
    raw = untyped(metrics.parsed)
    assert not raw, f"{len(raw)} parts of the metrics left as raw JSON by the client's parsers, e.g. {raw[:3]}"
    assert metrics.parsed.to_dict() == json.loads(metrics.content)


def test_a_refused_body_is_a_422_problem(live: Live, generated: Generated, admin: Any) -> None:
    body = generated.models.SurveyCreate(title="")  # at least one character
    workspace_id = live.demo["workspaces"][0]["id"]
    refused = answer(generated.endpoint("post", "/api/surveys"), client=admin, body=body, workspace_id=workspace_id)
    assert refused.status_code == 422, refused.content
    assert isinstance(refused.parsed, generated.models.Problem), refused.content
    assert refused.parsed.status == 422


def test_a_rate_limited_request_is_a_429_problem(
    tmp_path: Path, generated: Generated, sqlite_demo_template: tuple[Path, DemoData]
) -> None:
    variables = UNLIMITED | {"TABULAR_RATE_LIMIT": f"{RATE_LIMIT}/1m"}
    with live_demo(tmp_path, sqlite_demo_template, **variables) as limited:
        client = generated.package.AuthenticatedClient(
            base_url=limited.base_url,
            token=limited.user("member")["api_key"],
            prefix="",
            auth_header_name="X-API-Key",
            timeout=TIMEOUT,
            raise_on_unexpected_status=True,
        )
        with client:
            answers = [answer(generated.endpoint("get", "/api/surveys"), client=client) for _ in range(RATE_LIMIT + 1)]
    assert [a.status_code for a in answers] == [200] * RATE_LIMIT + [429], [a.content for a in answers]
    assert isinstance(answers[-1].parsed, generated.models.Problem), answers[-1].content
    assert answers[-1].parsed.status == 429
