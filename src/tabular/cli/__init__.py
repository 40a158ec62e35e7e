"""The `tabular` command: serve, migrate, and operate on users and demo data."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeVar

import click
import msgspec

from tabular.cli.common import run_as_operator, write
from tabular.cli.policy import policy
from tabular.db import Tier
from tabular.db.audit import AuditChainBrokenError, Checkpoint, verify_chain
from tabular.db.migrations import MigrationRefusedError, upgrade
from tabular.errors import TabularError, readable
from tabular.schemas.keys import ApiKeyCreate, CreatedApiKey
from tabular.schemas.users import UserCreate
from tabular.settings import Settings, SettingsError
from tabular.vocabulary import Role

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tabular.services.actor import Actor

_S = TypeVar("_S", bound=msgspec.Struct)


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


cli.add_command(policy)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = Settings.from_env()
    upgrade(settings.database_url, audit_key=settings.audit_key)
    click.echo("database is up to date")


@cli.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", required=True, help="Initial password: the rules of POST /api/users apply.")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--org", "organization", required=True, help="Organization name; created if missing.")
@click.option("--org-tier", type=click.Choice([tier.value for tier in Tier]), help="Tier of a new organization.")
def users_create(  # noqa: PLR0913, PLR0917 - one parameter per option
    email: str, name: str, password: str, role: str, organization: str, org_tier: str | None
) -> None:
    """Create a user (and their organization when it does not exist), as `POST /api/users` does.

    The same input rules, password rule and audit event (`user.created`, by no user: an operator).
    """
    body = _decoded(UserCreate, {"email": email, "name": name, "role": role, "password": password})

    async def create(actor: Actor) -> str:
        from tabular.services.organizations import OrganizationService  # noqa: PLC0415
        from tabular.services.users import UserService  # noqa: PLC0415

        tier = Tier(org_tier) if org_tier else None
        org = await OrganizationService(actor).get_or_create(organization, tier)
        user = await UserService(actor).create(body, organization_id=org.id)
        return f"created {user.role.value} {user.email} ({user.id}) in {org.name} [{org.tier.value}]"

    click.echo(run_as_operator(create))


def _decoded(kind: type[_S], fields: dict[str, Any]) -> _S:
    """Options checked by the rules the API's body of the same kind obeys; a broken one is a usage error."""
    try:
        return msgspec.convert(fields, kind)
    except msgspec.ValidationError as exc:
        field = str(exc).rpartition("$.")[2].rstrip("`") if "$." in str(exc) else None
        message = readable(str(exc).split(" - at ")[0])
        raise click.BadParameter(message, param_hint=f"--{field.replace('_', '-')}" if field else None) from None


@cli.group()
def keys() -> None:
    """API keys, for operators."""


@keys.command("create")
@click.option("--email", required=True, help="The user the key acts as.")
@click.option("--name", required=True, help="What the key is for, e.g. 'ETL pipeline'.")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Expiry (UTC).")
@click.option("--read-only", is_flag=True, help="Refuse every write with this key.")
@click.option("--json", "as_json", is_flag=True, help="Print {id, key, ...} as JSON.")
def keys_create(*, email: str, name: str, expires: dt.datetime | None, read_only: bool, as_json: bool) -> None:
    """Create an API key for a user (MFA enabled, paid tier); the key is printed once."""
    body = _decoded(
        ApiKeyCreate,
        {"name": name, "expires_at": expires.replace(tzinfo=dt.UTC) if expires else None, "read_only": read_only},
    )

    async def create(actor: Actor) -> CreatedApiKey:
        from tabular.services.api_keys import ApiKeyService  # noqa: PLC0415
        from tabular.services.users import UserService  # noqa: PLC0415

        found = await UserService(actor).everywhere(email)
        if not found:
            raise click.BadParameter(f"no user with email {email!r}", param_hint="--email")
        if len(found) > 1:
            raise click.BadParameter(
                f"{len(found)} organizations have a user with email {email!r}", param_hint="--email"
            )
        return await ApiKeyService(actor).create(body, for_user=found[0].id)

    created = run_as_operator(create)
    click.echo(msgspec.json.encode(created).decode() if as_json else f"{created.key}  (id {created.id}, shown once)")


@cli.group()
def audit() -> None:
    """The audit log."""


def _checkpoint(_context: click.Context, _parameter: click.Parameter, value: str | None) -> Checkpoint | None:
    try:
        return None if value is None else Checkpoint.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@audit.command("verify")
@click.option(
    "--checkpoint",
    callback=_checkpoint,
    metavar="COUNT:HASH",
    help="A head printed earlier by `tabular audit checkpoint`: fail if the log no longer reaches it unchanged.",
)
def audit_verify(checkpoint: Checkpoint | None) -> None:
    """Walk the whole hash chain in order, recomputing every keyed hash; fail at the first event that breaks it.

    The key comes from TABULAR_SECRET_KEY (or ./.tabular-secret), as the server's does. Without a checkpoint,
    events cut off the end of the log go unnoticed: the shorter chain is whole.
    """
    head = _verified(checkpoint)
    pinned = f"; the checkpoint's {checkpoint.count} events unchanged" if checkpoint else ""
    click.echo(f"audit chain intact: {head.count} events{pinned}")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Verify the chain, then print its head as COUNT:HASH, to keep where the database's writers cannot reach.

    `tabular audit verify --checkpoint COUNT:HASH` later fails if events up to that one were removed or rewritten.
    """
    click.echo(str(_verified(None)))


def _verified(checkpoint: Checkpoint | None) -> Checkpoint:
    try:
        return run_as_operator(lambda actor: verify_chain(actor.session, checkpoint))
    except AuditChainBrokenError as exc:
        raise click.ClickException(str(exc)) from None


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
