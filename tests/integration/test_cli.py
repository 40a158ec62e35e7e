"""The `tabular` command: demo data, users and one-line refusals through its entry point in this process;
`serve` as the real script."""

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tabular.cli.commands import DEMO_EXISTS
from tests.support.cli import invoke
from tests.support.live import TABULAR, environment, run
from tests.support.servers import free_port, wait_for_port


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return json.load(response)


def test_demo_json_has_the_documented_shape_and_runs_again_only_with_force(tmp_path: Path, database_url: str) -> None:
    first = invoke("demo", "--json", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert set(data) == {"organization", "workspaces", "users", "surveys"}
    assert set(data["organization"]) == {"id", "name", "tier"}
    assert data["organization"]["tier"] == "pro"
    assert len(data["workspaces"]) == 2
    assert all(set(workspace) == {"id", "name"} for workspace in data["workspaces"])
    assert sorted(user["role"] for user in data["users"]) == ["admin", "client", "member", "member"]
    for user in data["users"]:
        assert set(user) == {"email", "password", "role", "workspace_ids", "totp_secret", "api_key"}
    members = [user for user in data["users"] if user["role"] == "member"]
    assert {tuple(member["workspace_ids"]) for member in members} == {(w["id"],) for w in data["workspaces"]}
    assert len(data["surveys"]) >= 3
    assert {survey["workspace_id"] for survey in data["surveys"]} == {w["id"] for w in data["workspaces"]}

    saved = tmp_path / "demo.json"
    saved.write_text(first.stdout)
    refused = invoke("demo", "--json", "--output", "demo.json", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.strip() == f"tabular: error: {DEMO_EXISTS}"
    assert saved.read_text() == first.stdout, "the earlier run's credentials are kept"
    admin = data["users"][0]["email"]
    assert [key["status"] for key in _demo_keys(tmp_path, database_url, admin)] == ["active"], "nothing was revoked"

    second = invoke(
        "demo", "--json", "--force", "--output", "demo.json", cwd=tmp_path, TABULAR_DATABASE_URL=database_url
    )
    assert (second.returncode, second.stdout) == (0, ""), second.stderr
    assert [key["status"] for key in _demo_keys(tmp_path, database_url, admin)] == ["active", "revoked"]
    again = json.loads(saved.read_text())
    assert again["organization"] == data["organization"]
    assert again["surveys"] == data["surveys"]
    assert [u["email"] for u in again["users"]] == [u["email"] for u in data["users"]]


def _demo_keys(cwd: Path, database_url: str, email: str) -> list[dict[str, Any]]:
    listed = invoke("keys", "list", "--email", email, "--json", cwd=cwd, TABULAR_DATABASE_URL=database_url)
    assert listed.returncode == 0, listed.stderr
    keys: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return keys


def test_users_create_makes_the_organization_and_refuses_a_duplicate(tmp_path: Path, database_url: str) -> None:
    args = ["users", "create", "--email", "Ops@Example.com", "--name", "Ops", "--password", "long-enough-1"]
    args += ["--role", "admin", "--org", "Acme Research", "--org-tier", "team"]
    created = invoke(*args, cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert created.returncode == 0, created.stderr
    assert "ops@example.com" in created.stdout
    assert "Acme Research [team]" in created.stdout

    duplicate = invoke(*args, cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert duplicate.returncode == 1
    assert duplicate.stderr.strip() == "tabular: error: The organization already has a user with this email."


@pytest.mark.parametrize(
    ("args", "variables", "message"),
    [
        (["frobnicate"], {}, "No such command 'frobnicate'"),
        (["users", "create", "--email", "a@b.c"], {}, "Missing option '--name'"),
        (
            [
                "users",
                "create",
                "--email",
                "a@b.c",
                "--name",
                "A",
                "--password",
                "long-enough-1",
                "--role",
                "boss",
                "--org",
                "X",
            ],
            {},
            "'boss' is not one of",
        ),
        (
            [
                "users",
                "create",
                "--email",
                "nobody",
                "--name",
                "A",
                "--password",
                "long-enough-1",
                "--role",
                "admin",
                "--org",
                "X",
            ],
            {},
            "not an email address",
        ),
        (["serve", "--port", "99999"], {}, "--port"),
        (["db", "upgrade"], {"TABULAR_DATABASE_URL": "mysql://nope/x"}, "TABULAR_DATABASE_URL"),
        (["db", "upgrade", "--create"], {"TABULAR_RATE_LIMIT": "lots"}, "TABULAR_RATE_LIMIT"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, args: list[str], variables: dict[str, str], message: str
) -> None:
    result = invoke(*args, cwd=tmp_path, **variables)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tabular: error: ")
    assert message in lines[0]


def test_serve_refuses_several_workers_without_redis(tmp_path: Path) -> None:
    result = run("serve", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 2
    assert "TABULAR_REDIS_URL" in result.stderr
    assert not (tmp_path / "tabular.db").exists()


def test_serve_works_on_a_fresh_directory_with_no_configuration(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [TABULAR, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=60)
        assert _get_json(f"http://127.0.0.1:{port}/api/health") == {"status": "ok"}
        assert _get_json(f"http://127.0.0.1:{port}/api/ready")["database"] == "ok"
        assert _get_json(f"http://127.0.0.1:{port}/schema/openapi.json")["openapi"].startswith("3.1")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert (tmp_path / "tabular.db").exists()
    assert (tmp_path / ".tabular-secret").stat().st_mode & 0o777 == 0o600
    assert "Traceback" not in output


def test_serve_passes_reload_and_the_log_options_on_and_refuses_reload_with_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def run_server(target: str, **options: Any) -> None:  # what uvicorn would have been asked
        seen.update(options, target=target, log_format=os.environ.get("TABULAR_LOG_FORMAT"))

    monkeypatch.setattr(uvicorn, "run", run_server)
    served = invoke("serve", "--reload", "--log-level", "debug", "--log-format", "text", cwd=tmp_path)
    assert served.returncode == 0, served.stderr
    assert (seen["reload"], seen["log_level"], seen["workers"]) == (True, "debug", 1)
    assert seen["log_format"] == "text"  # the workers read it from the environment

    refused = invoke("serve", "--reload", "--workers", "2", cwd=tmp_path)
    assert refused.returncode == 2
    assert "--reload runs one worker" in refused.stderr
