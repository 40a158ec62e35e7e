"""Operator commands: `db` on the configured database (never a new one by accident), `keys list|revoke`,
`keys create --workspace`, `.env` and the warning for a mistyped variable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.cli import invoke

if TYPE_CHECKING:
    from tabular.demo import DemoData

NO_DATABASE = "tabular: error: no database at "
PRODUCT_POLICY_TESTS = Path(__file__).resolve().parents[2] / "policies" / "tests" / "product.yaml"


@pytest.mark.parametrize(
    "args",
    [
        ["db", "upgrade"],
        ["db", "current"],
        ["users", "create", "--email", "a@b.c", "--name", "A", "--password", "long-enough-1", "--role", "admin",
         "--org", "X"],
        ["keys", "list", "--email", "a@b.c"],
        ["audit", "verify"],
    ],
)  # fmt: skip
def test_a_command_run_where_no_database_is_creates_none(tmp_path: Path, args: list[str]) -> None:
    result = invoke(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(NO_DATABASE + str(tmp_path / "tabular.db"))
    assert "db upgrade --create" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == []  # no database, no secret


@pytest.mark.parametrize(
    "args",
    [["openapi"], ["policy", "export"], ["policy", "test", str(PRODUCT_POLICY_TESTS)]],
)
def test_a_command_that_reads_only_declarations_makes_no_file(tmp_path: Path, args: list[str]) -> None:
    """They build the app to read its routes and policy; no secret to keep, no database to open."""
    result = invoke(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout
    assert sorted(path.name for path in tmp_path.iterdir()) == []  # no .tabular-secret, no tabular.db


def test_db_upgrade_create_makes_the_database_and_then_plain_commands_work(tmp_path: Path) -> None:
    created = invoke("db", "upgrade", "--create", cwd=tmp_path)
    assert (created.returncode, created.stdout) == (0, "database is up to date\n"), created.stderr
    assert (tmp_path / "tabular.db").exists()
    current = invoke("db", "current", cwd=tmp_path)
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout


def test_db_downgrade_current_and_history(tmp_path: Path, database_url: str) -> None:
    history = invoke("db", "history", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    head = history.stdout.splitlines()[0].split(" -> ")[1].split()[0]
    previous = history.stdout.splitlines()[0].split(" -> ")[0]
    assert invoke("db", "current", cwd=tmp_path, TABULAR_DATABASE_URL=database_url).stdout.split()[0] == head
    down = invoke("db", "downgrade", "--", "-1", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert down.returncode == 0, down.stderr
    assert invoke("db", "current", cwd=tmp_path, TABULAR_DATABASE_URL=database_url).stdout.split()[0] == previous
    up = invoke("db", "upgrade", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert (up.returncode, up.stdout) == (0, "database is up to date\n"), up.stderr
    assert invoke("db", "current", cwd=tmp_path, TABULAR_DATABASE_URL=database_url).stdout.split()[0] == head


def test_an_env_file_names_the_database_and_a_mistyped_variable_is_warned_of(tmp_path: Path, database_url: str) -> None:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    (workdir / ".env").write_text(f"TABULAR_DATABASE_URL={database_url}\nTABULAR_RATELIMIT=5/1m\n", encoding="utf-8")
    result = invoke("db", "current", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "(head)" in result.stdout
    assert result.stderr == ("tabular: warning: unknown variable TABULAR_RATELIMIT; did you mean TABULAR_RATE_LIMIT?\n")
    assert not (workdir / "tabular.db").exists()


def test_keys_list_revoke_and_create_pinned_to_a_workspace(tmp_path: Path, database_url: str, demo: DemoData) -> None:
    member = next(user for user in demo.users if user.role == "member")
    env = {"TABULAR_DATABASE_URL": database_url}
    created = invoke(
        "keys", "create", "--email", member.email, "--name", "pinned", "--workspace", str(member.workspace_ids[0]),
        "--json", cwd=tmp_path, **env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    new = json.loads(created.stdout)
    assert new["workspace_id"] == str(member.workspace_ids[0])

    listed = json.loads(invoke("keys", "list", "--email", member.email, "--json", cwd=tmp_path, **env).stdout)
    assert (listed["items"][0]["id"], listed["items"][0]["status"]) == (new["id"], "active")
    assert len(listed["items"]) == 2  # the demo's key too
    table = invoke("keys", "list", "--email", member.email, cwd=tmp_path, **env).stdout
    assert f"workspace {member.workspace_ids[0]}" in table
    assert new["key"] not in table

    revoked = invoke("keys", "revoke", new["id"], cwd=tmp_path, **env)
    assert revoked.returncode == 0, revoked.stderr
    assert new["id"] in revoked.stdout
    after = json.loads(invoke("keys", "list", "--email", member.email, "--json", cwd=tmp_path, **env).stdout)
    assert {key["id"]: key["status"] for key in after["items"]}[new["id"]] == "revoked"

    other = next(w for w in demo.workspaces if w.id not in member.workspace_ids)
    refused = invoke(
        "keys", "create", "--email", member.email, "--name", "x", "--workspace", str(other.id), cwd=tmp_path, **env
    )
    assert refused.returncode == 1
    assert refused.stderr == "tabular: error: You are not a member of that workspace.\n"
    missing = invoke("keys", "revoke", "00000000-0000-0000-0000-000000000000", cwd=tmp_path, **env)
    assert missing.stderr == "tabular: error: No API key with this id.\n"
