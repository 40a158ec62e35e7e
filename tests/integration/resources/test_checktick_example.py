"""The CheckTick API-key guide's read-path examples, run as written against a live `tabular serve` with demo data.

The Python example is the guide's text with only the base URL, the key and the survey id substituted;
`requests` is not a dependency, so `import requests` is served by httpx, whose Client takes the same calls.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import types
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.live import serving

if TYPE_CHECKING:
    from pathlib import Path

    from tabular.demo import DemoData

GUIDE_EXAMPLE = """\
import requests

base = "https://localhost:8000"
api_key = "ct_live_<your_key>"

session = requests.Session()
session.verify = False  # for local self-signed certs; remove in production
session.headers.update({"Authorization": f"Bearer {api_key}"})

# List surveys
print(session.get(f"{base}/api/surveys/").json())

# Get a specific survey
survey_id = "<ID>"
print(session.get(f"{base}/api/surveys/{survey_id}/").json())

# Get response metrics
print(session.get(f"{base}/api/surveys/{survey_id}/metrics/responses/").json())
"""

CURL_EXAMPLES = [
    "/api/surveys/",
    "/api/surveys/$SURVEY_ID/",
    "/api/surveys/$SURVEY_ID/metrics/responses/",
]


def test_the_guide_s_python_and_curl_examples_run_as_written(
    tmp_path: Path,
    database_url: str,
    demo: DemoData,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    variables = {"TABULAR_DATABASE_URL": database_url, "TABULAR_SECRET_KEY": "k" * 40}
    admin = next(user for user in demo.users if user.role == "admin")
    survey = next(survey for survey in demo.surveys if survey.title == "Customer satisfaction 2026")
    assert admin.api_key is not None

    with serving(tmp_path, **variables) as base:
        script = (
            GUIDE_EXAMPLE.replace("https://localhost:8000", base)
            .replace("ct_live_<your_key>", admin.api_key)
            .replace("<ID>", survey.id)
        )
        sessions: list[httpx.Client] = []

        def session() -> httpx.Client:
            sessions.append(httpx.Client())
            return sessions[-1]

        monkeypatch.setitem(sys.modules, "requests", types.SimpleNamespace(Session=session))
        try:
            exec(compile(script, "checktick-guide-example.py", "exec"), {})  # noqa: S102 - the guide's own code
        finally:
            for client in sessions:  # the guide leaves its session open; close it so no socket leaks
                client.close()
        printed = capsys.readouterr().out

        curl = shutil.which("curl")
        curled = []
        if curl is not None:
            for path in CURL_EXAMPLES:
                url = base + path.replace("$SURVEY_ID", survey.id)
                command = [curl, "-k", "-s", "-H", f"Authorization: Bearer {admin.api_key}", url]
                curled.append(json.loads(subprocess.run(command, capture_output=True, check=True, timeout=30).stdout))

    with capsys.disabled():
        sys.stdout.write(printed)
    listing, detail, metrics = (ast.literal_eval(line) for line in printed.splitlines())
    assert listing["total"] == 4
    assert {item["id"] for item in listing["items"]} == {s.id for s in demo.surveys}
    assert detail["id"] == survey.id
    assert detail["title"] == "Customer satisfaction 2026"
    assert [question["kind"] for question in detail["questions"]] == [
        "rating",
        "single_choice",
        "multiple_choice",
        "text",
    ]
    assert metrics["survey_id"] == survey.id
    assert (metrics["total"], metrics["completed"]) == (24, 20)
    assert "@" not in json.dumps(metrics)
    if curl is not None:
        assert curled == [listing, detail, metrics]
