"""`tabular policy`: the permission matrix, and why the guard decides as it does for one request."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tabular.cli.as_operator import run_as_operator, write
from tabular.settings import Settings

if TYPE_CHECKING:
    from tabular.services.actor import Actor


@click.group()
def policy() -> None:
    """The permission policy: the full matrix, and why a request is allowed or refused."""


@policy.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "md"]), default="json", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
def policy_export(fmt: str, output: str | None) -> None:
    """Role x situation x resource x action x credential: status, reason and rule."""
    from tabular.policies import matrix  # noqa: PLC0415

    text = matrix.to_markdown() if fmt == "md" else (matrix.to_csv if fmt == "csv" else matrix.to_json)(matrix.build())
    write(text, output)


@policy.command("explain")
@click.option("--email", required=True, help="The user making the request (as a session).")
@click.argument("method")
@click.argument("path")
def policy_explain(email: str, method: str, path: str) -> None:
    """Say what the guard decides for METHOD PATH (e.g. GET '/api/surveys/ID'), and which rule decided."""
    from tabular.app import create_app  # noqa: PLC0415
    from tabular.policies.explain import ExplainError, explain  # noqa: PLC0415

    async def run(actor: Actor) -> str:
        app = create_app(Settings.from_env())  # after the migrations: the app configures logging
        try:
            return (await explain(actor.session, app, email, method, path))[1]
        except ExplainError as exc:
            raise click.UsageError(str(exc)) from None

    click.echo(run_as_operator(run))
