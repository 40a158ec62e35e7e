"""The `tabular` command: serve, migrate, and operate on users and demo data."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Final, NoReturn

import click
import msgspec

from tabular.cli.accounts import keys, users
from tabular.cli.as_operator import run_as_operator, write
from tabular.cli.audit import audit
from tabular.cli.policy import policy
from tabular.db.migrations import MigrationRefusedError, upgrade
from tabular.errors import TabularError
from tabular.settings import Settings, SettingsError

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tabular.services.actor import Actor


def main() -> NoReturn:
    """Entry point: every failure is one line on stderr and a non-zero exit, never a traceback."""
    try:
        status = cli.main(standalone_mode=False)  # a command's `click.exceptions.Exit` comes back as its status
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except (SettingsError, TabularError, MigrationRefusedError) as exc:
        _fail(str(exc.detail if isinstance(exc, TabularError) else exc), 1)
    sys.exit(status if isinstance(status, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"tabular: error: {message}", err=True)
    sys.exit(code)


SERVER_OPTIONS: Final[dict[str, Any]] = {
    "loop": "uvloop",
    "http": "httptools",
    "proxy_headers": False,  # client IPs come from TABULAR_TRUSTED_PROXIES only
    "server_header": False,
    "access_log": False,  # the app writes its own, structured and off the event loop (TABULAR_ACCESS_LOG)
    # A worker imports the whole stack (~3 s on one core); uvicorn's 5 s default restarts slow starters in a
    # loop on a busy 2-core machine.
    "timeout_worker_healthcheck": 60,
}
"""How `tabular serve` runs uvicorn; `bench/bare.py` runs its baseline the same way."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Tabular: the survey platform API and its auth and permission engine."""


for _group in (users, keys, audit, policy):
    cli.add_command(_group)


@cli.command()
@click.option("--host", help="Interface to bind [TABULAR_HOST, default 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [TABULAR_PORT, default 8000].")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes [TABULAR_WORKERS, default 1].")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Apply migrations, then serve the API."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    settings = Settings.from_env()  # creates the signing secret once, before any worker starts
    workers = workers or settings.workers
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
        **SERVER_OPTIONS,
    )


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = Settings.from_env()
    upgrade(settings.database_url, audit_key=settings.audit_key)
    click.echo("database is up to date")


@cli.command()
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
def openapi(output: str | None) -> None:
    """Export the OpenAPI 3.1 document (every operation with its policy)."""
    from tabular.app import create_app  # noqa: PLC0415

    app = create_app(Settings.from_env())
    document = app.openapi_schema.to_schema()
    write(msgspec.json.format(msgspec.json.encode(document).decode(), indent=2) + "\n", output)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object for scripts.")
def demo(*, as_json: bool) -> None:
    """Create (or refresh) a demo organization; prints its users' credentials."""
    from tabular.demo import seed_demo  # noqa: PLC0415

    data = run_as_operator(seed_demo)
    click.echo(msgspec.json.encode(data).decode() if as_json else _describe(data))


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
