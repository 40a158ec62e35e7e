"""`tabular policy`: the matrix, why a request is allowed or refused, policy test files and policy diffs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Final

import click

from tabular.cli.as_operator import run_as_operator, run_read_only, write
from tabular.cli.configured import declarations_only
from tabular.settings import Settings

if TYPE_CHECKING:
    from uuid import UUID

    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.policies.document import PolicyDocument
    from tabular.policies.testfile import Named, Outcome, PolicyTestFile
    from tabular.services.actor import Actor

DEMO_MISSING: Final = (
    "`world: demo` is the organization `tabular demo` creates, and the configured database has none: "
    "run `tabular demo` first"
)


@click.group()
def policy() -> None:
    """The permission policy: the matrix, why a request is allowed or refused, test files and diffs."""


@policy.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "md"]), default="json", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
def policy_export(fmt: str, output: str | None) -> None:
    """Role x situation x resource x action x credential: status, reason and rule.

    JSON adds the table and the declared routes: what `GET /api/policy` answers.
    """
    from tabular.policies import document, matrix  # noqa: PLC0415

    if fmt == "json":
        write(document.to_json(_current()), output)
    else:
        write(matrix.to_markdown() if fmt == "md" else matrix.to_csv(matrix.build()), output)


@policy.command("explain")
@click.option("--email", help="The user making the request.")
@click.option("--user-id", type=click.UUID, help="The user making the request, by id.")
@click.option("--key-id", type=click.UUID, help="An existing API key making the request, as it is.")
@click.option("--key", "as_key", is_flag=True, help="The user calls with an API key (full, unless narrowed).")
@click.option("--read-only", is_flag=True, help="… a read-only key.")
@click.option("--pinned", type=click.UUID, metavar="WORKSPACE_ID", help="… a key pinned to this workspace.")
@click.option("--without-mfa", is_flag=True, help="The user calls with a session signed in without a second factor.")
@click.argument("method")
@click.argument("path")
def policy_explain(  # noqa: PLR0913 - one parameter per option
    *, email: str | None, user_id: UUID | None, key_id: UUID | None, as_key: bool, read_only: bool,
    pinned: UUID | None, without_mfa: bool, method: str, path: str,
) -> None:  # fmt: skip
    """Say what the guard decides for METHOD PATH (e.g. GET '/api/surveys/ID'), and which rule decided.

    The subject is a user (--email or --user-id) with a session by default, or with a key (--key,
    --read-only, --pinned); or an existing key as it is (--key-id).
    """
    from tabular.app import create_app  # noqa: PLC0415
    from tabular.auth.subjects import CredentialShape  # noqa: PLC0415
    from tabular.policies.explain import ExplainError, explain  # noqa: PLC0415
    from tabular.policies.subject import Who  # noqa: PLC0415
    from tabular.vocabulary import CredentialKind  # noqa: PLC0415

    if sum(x is not None for x in (email, user_id, key_id)) != 1:
        raise click.UsageError("name the subject once: --email, --user-id or --key-id")
    keyed = as_key or read_only or pinned is not None
    if (keyed and without_mfa) or (key_id is not None and (keyed or without_mfa)):
        raise click.UsageError("--without-mfa is for a session; --key-id is a key as it is, not narrowed further")
    shape = (
        CredentialShape(CredentialKind.API_KEY, read_only=read_only, pinned_workspace_id=pinned)
        if keyed
        else CredentialShape(mfa_verified=False if without_mfa else None)
    )

    async def run(actor: Actor) -> str:
        app = create_app(Settings.from_env())  # after the migrations: the app configures logging
        try:
            who = Who(user_id=user_id, email=email, api_key_id=key_id)
            return (await explain(actor.session, app, who, method, path, shape=shape))[1]
        except ExplainError as exc:
            raise click.UsageError(str(exc)) from None

    click.echo(run_as_operator(run))


@policy.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def policy_test(files: tuple[Path, ...]) -> None:
    """Run policy test files (YAML) against the live decision function; exit 1 if any case fails.

    No server. A file that declares its world needs no database; `world: demo` is the organization
    `tabular demo` creates, read (never written) in the configured database. See
    `src/tabular/policies/testfile.py` and `demo_world.py`.
    """
    from tabular.app import create_app  # noqa: PLC0415
    from tabular.policies.testfile import PolicyTestError, load  # noqa: PLC0415

    settings = declarations_only()  # `world: demo` reads the database; nothing signs, nothing is written
    app = create_app(settings)
    tests = []
    for file in files:
        try:
            tests.append((file, load(file.read_bytes())))
        except PolicyTestError as exc:
            raise click.ClickException(f"{file}: {exc}") from None
    if any(test.world == "demo" for _, test in tests):
        outcomes = run_read_only(lambda session: _run(app, tests, session), settings, unready=DEMO_MISSING)
    else:
        outcomes = asyncio.run(_run(app, tests))
    failed = [(file, outcome) for file, outcome in outcomes if not outcome.passed]
    if failed:
        click.echo(_failure_table(failed))
    total = len(outcomes)
    click.echo(f"{total - len(failed)} of {total} cases pass" + (f", {len(failed)} fail" if failed else ""))
    if failed:
        raise click.exceptions.Exit(1)


async def _run(
    app: Litestar, tests: list[tuple[Path, PolicyTestFile]], session: AsyncSession | None = None
) -> list[tuple[Path, Outcome]]:
    """Every case of every file, in its world: its own, or the demo organization read on `session`."""
    from tabular.demo import DEMO_ORGANIZATION  # noqa: PLC0415
    from tabular.policies.demo_world import DatabaseWorld, MissingWorldError  # noqa: PLC0415
    from tabular.policies.testfile import PolicyTestError, World, WorldSpec, run  # noqa: PLC0415

    named: dict[str, Named] = {}
    try:
        if session is not None:
            named["demo"] = await DatabaseWorld.load(session, DEMO_ORGANIZATION)
    except MissingWorldError:
        raise click.ClickException(DEMO_MISSING) from None
    outcomes = []
    for file, test in tests:
        world = World(test.world) if isinstance(test.world, WorldSpec) else named[test.world]
        try:
            outcomes += [(file, outcome) for outcome in await run(app, test.cases, world)]
        except PolicyTestError as exc:
            raise click.ClickException(f"{file}: {exc}") from None
    return outcomes


def _failure_table(failed: list[tuple[Path, Outcome]]) -> str:
    rows = [("case", "as", "request", "expected", "got", "decided by")]
    for file, outcome in failed:
        verdict = outcome.verdict
        got = "allow" if verdict.allowed else f"{verdict.status} {verdict.code}"
        case = f"{file.name}#{outcome.number}" + (f" {outcome.case.name}" if outcome.case.name else "")
        rows.append((case, outcome.case.subject, outcome.case.request, str(outcome.case.expect), got, verdict.rule))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)  # fmt: skip


@policy.command("diff")
@click.argument("old")
@click.argument("new", required=False)
def policy_diff(old: str, new: str | None) -> None:
    """Which matrix cells and declared routes change from OLD to NEW.

    Each is a JSON file written by `tabular policy export`, or a git revision (its policy is exported from
    that revision's source); NEW defaults to the working tree.
    """
    from tabular.policies.diff import diff, to_text  # noqa: PLC0415

    click.echo(to_text(diff(_policy_at(old), _current() if new is None else _policy_at(new))), nl=False)


def _current() -> PolicyDocument:
    from tabular.app import create_app  # noqa: PLC0415
    from tabular.policies.document import document  # noqa: PLC0415
    from tabular.policies.inventory import declared_routes  # noqa: PLC0415

    return document(declared_routes(create_app(declarations_only())))


def _policy_at(where: str) -> PolicyDocument:
    """The policy in the JSON file `where`, or exported from the source at git revision `where`."""
    from tabular.policies.document import from_json  # noqa: PLC0415

    if Path(where).is_file():
        return from_json(Path(where).read_bytes())
    root = _git("rev-parse", "--show-toplevel").decode().strip()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "source.tar"
        archive.write_bytes(_git("archive", where, "src/tabular", cwd=root))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        environment = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        command = [sys.executable, "-c", "from tabular.cli import main; main()", "policy", "export", "--format", "json"]
        exported = subprocess.run(command, capture_output=True, cwd=tmp, env=environment, check=False)  # noqa: S603
        if exported.returncode != 0:
            raise click.ClickException(f"exporting the policy at {where}: {exported.stderr.decode().strip()}")
        return from_json(exported.stdout)


def _git(*args: str, cwd: str | None = None) -> bytes:
    found = subprocess.run(["git", *args], capture_output=True, cwd=cwd, check=False)  # noqa: S603, S607
    if found.returncode != 0:
        raise click.BadParameter(f"neither a file nor a git revision here: {found.stderr.decode().strip()}")
    return found.stdout
