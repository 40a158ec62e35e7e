"""`tabular policy export|explain` and `tabular openapi`: the Markdown export from the real script, the rest
through the same entry point in this process (`tests/support/cli.py`)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from tabular.policies import matrix
from tests.support.cli import invoke
from tests.support.live import run

if TYPE_CHECKING:
    from tabular.demo import DemoData


def test_export_md_is_the_committed_policy_file(tmp_path: Path) -> None:
    result = run("policy", "export", "--format", "md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (Path(__file__).resolve().parents[2] / "POLICY.md").read_text(encoding="utf-8")


def test_export_csv_and_json_list_every_cell(tmp_path: Path) -> None:
    cells = len(matrix.build())
    as_csv = invoke("policy", "export", "--format", "csv", cwd=tmp_path)
    assert as_csv.stdout.count("\n") == cells + 1
    assert as_csv.stdout.startswith("role,situation,resource,action,credential,status,code,rule\n")
    invoke("policy", "export", "--output", str(tmp_path / "m.json"), cwd=tmp_path)
    exported = json.loads((tmp_path / "m.json").read_text())
    assert len(exported["matrix"]) == cells
    assert {"rules", "denied", "routes"} <= set(exported)


def test_explain_says_what_decided(tmp_path: Path, database_url: str, demo: DemoData) -> None:
    member = next(user for user in demo.users if user.role == "member")
    other = next(w.id for w in demo.workspaces if w.id not in member.workspace_ids)

    def explain(email: str, method: str, path: str) -> str:
        result = invoke(
            "policy", "explain", "--email", email, method, path, cwd=tmp_path, TABULAR_DATABASE_URL=database_url
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    refused = explain(member.email, "GET", f"/api/reports?workspace_id={other}")
    assert "refused: 403 not_a_member" in refused
    assert "member.report" in refused
    assert "allowed" in explain(demo.users[0].email, "GET", f"/api/reports?workspace_id={other}")
    assert "refused: 404 not_found" in explain(member.email, "GET", f"/api/reports/{uuid.uuid4()}")
    assert "public" in explain(member.email, "GET", "/api/health")
    ambiguous = f"/api/reports?workspace_id={member.workspace_ids[0]}&workspace_id={other}"
    twice = invoke("policy", "explain", "--email", member.email, "POST", ambiguous, cwd=tmp_path,
                   TABULAR_DATABASE_URL=database_url)  # fmt: skip
    assert twice.returncode != 0
    assert "400 duplicate_parameter" in twice.stderr
    unknown = invoke("policy", "explain", "--email", "nobody@x.test", "GET", "/api/reports", cwd=tmp_path,
                     TABULAR_DATABASE_URL=database_url)  # fmt: skip
    assert unknown.returncode != 0
    assert unknown.stderr.strip() == "tabular: error: no user with email 'nobody@x.test'"


def test_openapi_export_carries_the_policy(tmp_path: Path) -> None:
    result = invoke("openapi", "--output", str(tmp_path / "openapi.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "openapi.json").read_text())
    assert document["openapi"].startswith("3.1")
    operation = document["paths"]["/api/reports"]["get"]
    assert operation["x-tabular-policy"]["roles"] == ["admin", "member"]


def test_explain_knows_every_credential_shape(tmp_path: Path, database_url: str, demo: DemoData) -> None:
    member = next(user for user in demo.users if user.role == "member")
    admin = next(user for user in demo.users if user.role == "admin")
    own = member.workspace_ids[0]
    other = next(w.id for w in demo.workspaces if w.id not in member.workspace_ids)

    def explain(*args: str) -> str:
        result = invoke("policy", "explain", *args, cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    read_only = explain("--email", member.email, "--read-only", "POST", f"/api/reports?workspace_id={own}")
    assert "(member, read-only key)" in read_only
    assert "refused: 403 read_only_key, decided by member.report" in read_only
    pinned = explain("--email", member.email, "--pinned", other, "GET", f"/api/reports?workspace_id={own}")
    assert "refused: 403 outside_pinned_workspace" in pinned
    assert "refused: 403 api_key_not_allowed" in explain("--email", member.email, "--key", "POST", "/api/keys")
    without_mfa = explain("--email", member.email, "--without-mfa", "GET", f"/api/reports?workspace_id={own}")
    assert "(member, session without MFA)" in without_mfa
    assert "allowed" in without_mfa
    created = invoke("keys", "create", "--email", admin.email, "--name", "explained", "--read-only", "--json",
                     cwd=tmp_path, TABULAR_DATABASE_URL=database_url)  # fmt: skip
    key_id = json.loads(created.stdout)["id"]
    as_key = explain("--key-id", key_id, "DELETE", f"/api/workspaces/{own}")
    assert "(admin, read-only key)" in as_key
    assert "refused: 403 read_only_key, decided by admin.workspace" in as_key
    assert "allowed" in explain("--key-id", key_id, "GET", "/api/users")
    both = invoke("policy", "explain", "--key-id", key_id, "--read-only", "GET", "/api/users", cwd=tmp_path,
                  TABULAR_DATABASE_URL=database_url)  # fmt: skip
    assert both.returncode != 0
