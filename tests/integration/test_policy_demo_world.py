"""`tabular policy test` over `world: demo`: the shipped demo.yaml passes on the organization `tabular demo`
creates, a wrong expectation fails naming the case and the rule, the answers follow the database as it is,
the command writes nothing, and without the demo organization it says to run `tabular demo`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from tabular.db import User
from tests.support.cli import invoke, invoke_in_thread
from tests.support.db import every_row, execute, open_database

if TYPE_CHECKING:
    from tabular.demo import DemoData

FILES = Path(__file__).resolve().parents[2] / "policies" / "tests"
WRONG = """
world: demo
cases:
  - {as: member1, request: "GET /api/surveys/{customer_satisfaction_2026}", expect: allow}
  - name: Max may read Mia's survey
    as: member2
    request: "GET /api/surveys/{customer_satisfaction_2026}"
    expect: allow
  - {as: member1 key read_only, request: "DELETE /api/surveys/{onboarding_feedback}", expect: 404}
"""
NO_DEMO = (
    "tabular: error: `world: demo` is the organization `tabular demo` creates, and the configured database has "
    "none: run `tabular demo` first"
)


@pytest.mark.usefixtures("demo")
def test_the_demo_file_passes(tmp_path: Path, database_url: str) -> None:
    result = invoke("policy", "test", str(FILES / "demo.yaml"), cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    passed, _, total = result.stdout.strip().split()[:3]
    assert passed == total
    assert int(total) >= 30


@pytest.mark.usefixtures("demo")
def test_a_wrong_expectation_fails_naming_the_case_and_the_rule(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "wrong.yaml").write_text(WRONG, encoding="utf-8")
    result = invoke("policy", "test", "wrong.yaml", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert result.returncode == 1, result.stderr
    header, *failures, summary = result.stdout.strip().splitlines()
    assert header.split() == ["case", "as", "request", "expected", "got", "decided", "by"]
    assert [line.split()[0] for line in failures] == ["wrong.yaml#2", "wrong.yaml#3"]
    assert "Max may read Mia's survey" in failures[0]
    assert failures[0].split()[-3:] == ["403", "not_a_member", "member.survey"]
    assert failures[1].split()[-3:] == ["403", "read_only_key", "member.survey"]
    assert summary == "1 of 3 cases pass, 2 fail"


@pytest.mark.anyio
async def test_the_answers_are_the_database_as_it_is(tmp_path: Path, database_url: str, demo: DemoData) -> None:
    """A member disabled since `tabular demo` ran is refused as their next request would be."""
    member = next(user for user in demo.users if user.email.startswith("member1@"))
    await execute(database_url, update(User).where(User.email == member.email).values(is_active=False))
    (tmp_path / "wrong.yaml").write_text(WRONG, encoding="utf-8")
    result = await invoke_in_thread("policy", "test", "wrong.yaml", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert [line.split()[-3:] for line in result.stdout.splitlines()[1:-1]] == [
        ["401", "account_disabled", "authentication"],
        ["403", "not_a_member", "member.survey"],
        ["401", "account_disabled", "authentication"],
    ]


@pytest.mark.anyio
async def test_the_command_writes_nothing(tmp_path: Path, database_url: str, demo: DemoData) -> None:
    """Every table, the audit log among them, is as it was after passing and failing files, a key taken as
    it is and imagined ones, and the product's declared world run beside the demo's."""
    (tmp_path / "wrong.yaml").write_text(WRONG, encoding="utf-8")
    files = [str(FILES / "demo.yaml"), "wrong.yaml", str(FILES / "product.yaml")]
    async with open_database(database_url) as database:
        before = await every_row(database)
        result = await invoke_in_thread("policy", "test", *files, cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
        assert await every_row(database) == before
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith(", 2 fail")
    assert before["audit_event"]
    assert len(before["api_key"]) >= len(demo.users)


def test_without_the_demo_organization_it_says_to_run_tabular_demo(tmp_path: Path, database_url: str) -> None:
    result = invoke("policy", "test", str(FILES / "demo.yaml"), cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert (result.returncode, result.stdout, result.stderr.strip()) == (1, "", NO_DEMO)


def test_a_database_that_is_not_there_is_not_made(tmp_path: Path) -> None:
    """Neither created (SQLite makes the file it connects to) nor migrated: the command only reads."""
    (tmp_path / "empty.db").touch()
    for name in ("none.db", "empty.db"):
        url = f"sqlite+aiosqlite:///{tmp_path / name}"
        result = invoke("policy", "test", str(FILES / "demo.yaml"), cwd=tmp_path, TABULAR_DATABASE_URL=url)
        assert (result.returncode, result.stderr.strip()) == (1, NO_DEMO)
    assert not (tmp_path / "none.db").exists()


@pytest.mark.usefixtures("demo")
def test_names_the_demo_world_does_not_have_are_refused(tmp_path: Path, database_url: str) -> None:
    refusals = {
        "{as: nobody, request: 'GET /api/health', expect: allow}": "'nobody' is neither a user",
        "{as: member3@demo.tabular.test, request: 'GET /api/health', expect: allow}": "no user with email",
        "{as: admin, request: 'GET /api/surveys/{feature_priority}', expect: allow}": "nothing in the demo world "
        "is called 'feature_priority'",
        "{as: admin key pinned:feature_priorities, request: 'GET /api/users', expect: allow}": "'feature_priorities'"
        " is not a workspace",
        "{as: admin_demo_key read_only, request: 'GET /api/users', expect: allow}": "a key is taken as it is",
    }
    for case, message in refusals.items():
        (tmp_path / "broken.yaml").write_text(f"world: demo\ncases:\n  - {case}\n", encoding="utf-8")
        result = invoke("policy", "test", "broken.yaml", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
        assert result.returncode == 1
        assert result.stderr.startswith("tabular: error: broken.yaml: case 1: "), result.stderr
        assert message in result.stderr, result.stderr
