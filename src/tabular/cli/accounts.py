"""`tabular users` and `tabular keys`: accounts and API keys made as the API makes them, by an operator."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click
import msgspec

from tabular.cli.as_operator import decoded, run_as_operator
from tabular.db import Tier
from tabular.schemas.keys import ApiKeyCreate, ApiKeyList, CreatedApiKey
from tabular.schemas.users import UserCreate
from tabular.vocabulary import Role

if TYPE_CHECKING:
    from uuid import UUID

    from tabular.services.actor import Actor


@click.group()
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
    body = decoded(UserCreate, {"email": email, "name": name, "role": role, "password": password})

    async def create(actor: Actor) -> str:
        from tabular.services.organizations import OrganizationService  # noqa: PLC0415
        from tabular.services.users import UserService  # noqa: PLC0415

        tier = Tier(org_tier) if org_tier else None
        org = await OrganizationService(actor).get_or_create(organization, tier)
        user = await UserService(actor).create(body, organization_id=org.id)
        return f"created {user.role.value} {user.email} ({user.id}) in {org.name} [{org.tier.value}]"

    click.echo(run_as_operator(create))


@click.group()
def keys() -> None:
    """API keys, for operators."""


@keys.command("create")
@click.option("--email", required=True, help="The user the key acts as.")
@click.option("--name", required=True, help="What the key is for, e.g. 'ETL pipeline'.")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Expiry (UTC).")
@click.option("--read-only", is_flag=True, help="Refuse every write with this key.")
@click.option("--workspace", type=click.UUID, help="Pin the key to this workspace (one the user can reach).")
@click.option("--json", "as_json", is_flag=True, help="Print {id, key, ...} as JSON.")
def keys_create(  # noqa: PLR0913 - one parameter per option
    *, email: str, name: str, expires: dt.datetime | None, read_only: bool, workspace: UUID | None, as_json: bool
) -> None:
    """Create an API key for a user (MFA enabled, paid tier); the key is printed once."""
    body = decoded(
        ApiKeyCreate,
        {
            "name": name,
            "expires_at": expires.replace(tzinfo=dt.UTC) if expires else None,
            "read_only": read_only,
            "workspace_id": workspace,
        },
    )

    async def create(actor: Actor) -> CreatedApiKey:
        from tabular.services.api_keys import ApiKeyService  # noqa: PLC0415

        return await ApiKeyService(actor).create(body, for_user=await _user_id(actor, email))

    created = run_as_operator(create)
    click.echo(msgspec.json.encode(created).decode() if as_json else f"{created.key}  (id {created.id}, shown once)")


@keys.command("list")
@click.option("--email", required=True, help="Whose keys.")
@click.option("--json", "as_json", is_flag=True, help="Print {items: [...]} as GET /api/keys does.")
def keys_list(*, email: str, as_json: bool) -> None:
    """A user's keys, newest first: id, prefix, status, name, expiry, last use, down-scope (never the secret)."""

    async def listed(actor: Actor) -> ApiKeyList:
        from tabular.services.api_keys import ApiKeyService  # noqa: PLC0415

        return await ApiKeyService(actor).list_own(for_user=await _user_id(actor, email))

    found = run_as_operator(listed)
    if as_json:
        click.echo(msgspec.json.encode(found).decode())
        return
    for key in found.items:
        scope = ("read-only " if key.read_only else "") + (f"workspace {key.workspace_id}" if key.workspace_id else "")
        expires = f"expires {key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else "no expiry"
        used = f"used {key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
        click.echo(f"{key.id}  {key.prefix}  {key.status:<8} {key.name}  ({expires}, {used}) {scope}".rstrip())
    if not found.items:
        click.echo(f"{email} has no API keys")


@keys.command("revoke")
@click.argument("key_id", type=click.UUID)
def keys_revoke(key_id: UUID) -> None:
    """Stop the key KEY_ID now (audited `api_key.revoked`, reason `revoked_by_operator`)."""

    async def revoke(actor: Actor) -> str:
        from tabular.services.api_keys import ApiKeyService  # noqa: PLC0415

        revoked = await ApiKeyService(actor).revoke_by_id(key_id)
        return f"revoked {revoked.prefix}… ({revoked.name}, {revoked.id})"

    click.echo(run_as_operator(revoke))


async def _user_id(actor: Actor, email: str) -> UUID:
    """The one user with this email, in any organization; a usage error for none or several."""
    from tabular.services.users import UserService  # noqa: PLC0415

    found = await UserService(actor).everywhere(email)
    if not found:
        raise click.BadParameter(f"no user with email {email!r}", param_hint="--email")
    if len(found) > 1:
        raise click.BadParameter(f"{len(found)} organizations have a user with email {email!r}", param_hint="--email")
    return found[0].id
