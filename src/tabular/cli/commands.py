"""`tabular serve`, `openapi` and `demo`: the commands that run or describe the application itself."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

import click
import msgspec

from tabular.cli import SERVER_OPTIONS
from tabular.cli.as_operator import run_as_operator, write
from tabular.cli.configured import configured, declarations_only

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tabular.services.actor import Actor

DEMO_EXISTS: Final = (
    "the demo organization exists already: running `tabular demo` again gives its users new passwords and API keys, "
    "revoking the keys and ending the sessions of the earlier run; add --force to do so"
)
"""Why a second `tabular demo` stops: what it hands out replaces what the first one did."""


@click.command()
@click.option("--host", help="Interface to bind [TABULAR_HOST, default 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [TABULAR_PORT, default 8000].")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes [TABULAR_WORKERS, default 1].")
@click.option("--reload", is_flag=True, help="Restart when a source file changes (development; one worker).")
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    help="The server's own messages (start-up, errors); the access log is TABULAR_ACCESS_LOG.",
)
@click.option(
    "--log-format", type=click.Choice(["json", "text"]), help="Access log lines [TABULAR_LOG_FORMAT, default json]."
)
def serve(  # noqa: PLR0913 - one parameter per option
    *, host: str | None, port: int | None, workers: int | None, reload: bool, log_level: str, log_format: str | None
) -> None:
    """Apply migrations, then serve the API.

    Creates the database when it is missing (`./tabular.db` by default), as `demo` and `db upgrade --create` do.
    """
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    if log_format:
        os.environ["TABULAR_LOG_FORMAT"] = log_format  # the workers read their settings from the environment
    settings = configured(create_database=True)  # creates the signing secret once, before any worker starts
    workers = workers or settings.workers
    if reload and workers > 1:
        raise click.UsageError("--reload runs one worker; leave out --workers")
    if workers > 1 and settings.redis_url is None:
        raise click.UsageError(
            "--workers > 1 needs TABULAR_REDIS_URL: without Redis each worker would keep its own rate-limit "
            "counters, and N workers would admit N times the limit"
        )
    sealed = run_as_operator(_seal_legacy, settings)  # migrates first; the workers read with this same key
    if sealed:
        click.echo(f"sealed {sealed} TOTP secrets and recovery codes stored before migration 0004", err=True)
    uvicorn.run(
        "tabular.app:serve_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        log_level=log_level,
        **SERVER_OPTIONS,
    )


@click.command()
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
def openapi(output: str | None) -> None:
    """Export the OpenAPI 3.1 document (every operation with its policy)."""
    from tabular.app import create_app  # noqa: PLC0415

    app = create_app(declarations_only())
    document = app.openapi_schema.to_schema()
    write(msgspec.json.format(msgspec.json.encode(document).decode(), indent=2) + "\n", output)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object for scripts.")
@click.option(
    "--force",
    is_flag=True,
    help="Refresh a demo organization made before: new passwords and keys; the earlier run's keys and sessions end.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write here instead of stdout, only once the run has succeeded (a refusal leaves the file as it was).",
)
def demo(*, as_json: bool, force: bool, output: str | None) -> None:
    """Create (or refresh) a demo organization; prints its users' credentials.

    Run again, it would revoke the keys and end the sessions an earlier run handed out (perhaps to someone
    else on a shared server), so it refuses without --force, before anything is written.
    """
    from tabular.demo import demo_exists, seed_demo  # noqa: PLC0415

    async def seed(actor: Actor) -> DemoData:
        if not force and await demo_exists(actor.session):
            raise click.ClickException(DEMO_EXISTS)
        return await seed_demo(actor)

    data = run_as_operator(seed, create_database=True)
    write((msgspec.json.encode(data).decode() if as_json else _describe(data)) + "\n", output)


def _describe(data: DemoData) -> str:
    lines = [f"Organization {data.organization.name} ({data.organization.tier}) {data.organization.id}", ""]
    lines += [f"  workspace {w.name:<20} {w.id}" for w in data.workspaces]
    lines.append("")
    lines += [
        f"  {u.role:<7} {u.email:<28} password {u.password}  totp {u.totp_secret}  key {u.api_key}" for u in data.users
    ]
    lines.append("")
    lines += [f"  survey {s.title:<30} {s.id}" for s in data.surveys]
    return "\n".join(lines)


async def _seal_legacy(actor: Actor) -> int:
    from tabular.services.mfa import MfaService  # noqa: PLC0415 - only `serve` needs it

    return await MfaService(actor).seal_legacy()
