"""`tabular policy test` and `tabular policy diff`: the shipped product.yaml passes, a wrong expectation fails
naming the case and the rule, and a diff of a table with one rule changed lists exactly what that moves."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

from tabular.app import create_app
from tabular.policies.document import document, to_json
from tabular.policies.inventory import declared_routes
from tabular.policies.matrix import Credential, Situation
from tabular.policies.table import RULES, PolicyTable, Scope
from tabular.vocabulary import Action
from tests.support.cli import invoke
from tests.support.settings import make_settings

PRODUCT = Path(__file__).resolve().parents[2] / "policies" / "tests" / "product.yaml"
WRONG = """
world:
  workspaces: [north, south]
  users:
    max: {role: member, workspaces: [north]}
  objects:
    survey: {resource: survey, workspace: north}
    elsewhere: {resource: survey, workspace: south}
cases:
  - {as: max, request: "GET /api/surveys/{survey}", expect: allow}
  - name: a read-only key may delete
    as: max key read_only
    request: "DELETE /api/surveys/{survey}"
    expect: allow
  - {as: max, request: "GET /api/surveys/{elsewhere}", expect: 404}
"""


def test_the_product_file_passes(tmp_path: Path) -> None:
    result = invoke("policy", "test", str(PRODUCT), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    passed, _, total = result.stdout.strip().split()[:3]
    assert passed == total
    assert int(total) >= 60


def test_a_wrong_expectation_fails_naming_the_case_and_the_rule(tmp_path: Path) -> None:
    (tmp_path / "wrong.yaml").write_text(WRONG, encoding="utf-8")
    result = invoke("policy", "test", "wrong.yaml", cwd=tmp_path)
    assert result.returncode == 1
    header, *failures, summary = result.stdout.strip().splitlines()
    assert header.split() == ["case", "as", "request", "expected", "got", "decided", "by"]
    assert [line.split()[0] for line in failures] == ["wrong.yaml#2", "wrong.yaml#3"]
    assert "a read-only key may delete" in failures[0]
    assert failures[0].split()[-3:] == ["403", "read_only_key", "member.survey"]
    assert failures[1].split()[-3:] == ["403", "not_a_member", "member.survey"]
    assert summary == "1 of 3 cases pass, 2 fail"


def test_a_broken_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "typo.yaml").write_text(WRONG.replace("{elsewhere}", "{elswhere}"), encoding="utf-8")
    result = invoke("policy", "test", "typo.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "nothing in the world is called 'elswhere'" in result.stderr


def test_diff_lists_exactly_the_cells_and_routes_one_rule_moves(tmp_path: Path) -> None:
    """Members may no longer delete reports, and may update them organization-wide: two changes to one rule."""
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    changed = tuple(
        dataclasses.replace(rule, actions=rule.actions - {Action.DELETE}) if rule.id == "member.report" else rule
        for rule in RULES
    )
    (tmp_path / "old.json").write_text(to_json(document(declared_routes(app))), encoding="utf-8")
    (tmp_path / "new.json").write_text(to_json(document(declared_routes(app), PolicyTable(changed))), "utf-8")
    result = invoke("policy", "diff", "old.json", "new.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    cells = {tuple(line.split(":")[0].split()) for line in lines if line.startswith("  ") and "->" in line}
    assert cells == {
        ("member", credential.value, situation.value, "report", "delete")
        for credential, situation in itertools.product(Credential, Situation)
    }
    routes = [line.strip() for line in lines[lines.index("1 declared routes answer differently:") + 1 :]]
    assert routes == ["DELETE /api/reports/{report_id:uuid} (report delete)"]
    assert "  member session own_workspace report delete: 200 [member.report] -> 403 role_forbidden" in result.stdout


def test_diff_of_a_scope_change_moves_only_other_workspaces(tmp_path: Path) -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    wider = tuple(
        dataclasses.replace(rule, scope=Scope.ORGANIZATION) if rule.id == "client.dashboard" else rule for rule in RULES
    )
    (tmp_path / "new.json").write_text(to_json(document(declared_routes(app), PolicyTable(wider))), "utf-8")
    (tmp_path / "old.json").write_text(to_json(document(declared_routes(app))), encoding="utf-8")
    result = invoke("policy", "diff", "old.json", "new.json", cwd=tmp_path)
    changed = [
        line.split(":")[0].split() for line in result.stdout.splitlines() if line.startswith("  ") and "->" in line
    ]
    assert {(role, situation, action) for role, _, situation, _, action in changed} == {
        ("client", "other_workspace", "list"), ("client", "other_workspace", "read")
    }  # fmt: skip
    assert "GET /api/dashboards/{dashboard_id:uuid} (dashboard read)" in result.stdout
    assert "GET /api/dashboards (dashboard list)" in result.stdout
    assert invoke("policy", "diff", "old.json", "old.json", cwd=tmp_path).stdout == "no cell of the matrix changes\n"
