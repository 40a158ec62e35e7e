"""The full decision matrix, computed by `authorize` — the same function the guard and `explain` call.

Rows: role x situation (own workspace, other workspace of the organization, other organization,
nonexistent) x resource x action x credential (session, full key, read-only key, workspace-pinned key).
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from enum import StrEnum, auto
from typing import TYPE_CHECKING, Any, Final

import msgspec

from tabular.auth.identities import Identity
from tabular.auth.subjects import CredentialShape
from tabular.db import Tier
from tabular.policies.authorize import Address, Authorization, Located, authorize
from tabular.policies.decision import Decision, Target
from tabular.policies.placement import PLACEMENTS, Level, is_collection, located_as
from tabular.policies.table import POLICY, PolicyTable
from tabular.vocabulary import Action, CredentialKind, Resource, Role

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from tabular.auth.principal import Principal


class Situation(StrEnum):
    """Where the target is, relative to the caller."""

    OWN_WORKSPACE = auto()
    OTHER_WORKSPACE = auto()
    OTHER_ORGANIZATION = auto()
    NONEXISTENT = auto()


class Credential(StrEnum):
    """How the caller authenticates, and with which down-scope."""

    SESSION = auto()
    FULL_KEY = auto()
    READ_ONLY_KEY = auto()
    PINNED_KEY = auto()


ORGANIZATION: Final = uuid.UUID(int=1)
OTHER_ORGANIZATION: Final = uuid.UUID(int=2)
CALLER: Final = uuid.UUID(int=10)
SOMEONE_ELSE: Final = uuid.UUID(int=11)
OWN_WORKSPACE: Final = uuid.UUID(int=100)
OTHER_WORKSPACE: Final = uuid.UUID(int=101)
FOREIGN_WORKSPACE: Final = uuid.UUID(int=200)
SOMEWHERE: Final = uuid.UUID(int=300)
"""The id every matrix request names: the situation, not the id, says where the object is."""


class Row(msgspec.Struct, frozen=True):
    """One cell of the matrix."""

    role: str
    situation: str
    resource: str
    action: str
    credential: str
    status: int
    code: str
    rule: str


def principal_for(role: Role, credential: Credential) -> Principal:
    """A caller of `role` who belongs to OWN_WORKSPACE only, authenticated as `credential`."""
    identity = Identity(
        user_id=CALLER,
        organization_id=ORGANIZATION,
        role=role,
        workspace_ids=frozenset({OWN_WORKSPACE}),
        is_active=True,
        token_version=0,
        mfa_enabled=True,
        tier=Tier.PRO,
        name="matrix caller",
        email="caller@matrix.invalid",
        organization_name="matrix",
    )
    if credential is Credential.SESSION:
        return CredentialShape().principal(identity)  # signed in with the second factor the caller has
    shape = CredentialShape(
        CredentialKind.API_KEY,
        key_id=uuid.UUID(int=1000),
        read_only=credential is Credential.READ_ONLY_KEY,
        pinned_workspace_id=OWN_WORKSPACE if credential is Credential.PINNED_KEY else None,
    )
    return shape.principal(identity)


@dataclass(frozen=True, slots=True)
class SituationLookup:
    """The matrix's locator: where an object of each resource would be in a situation, from its placement."""

    situation: Situation

    async def __call__(self, address: Address) -> Located | None:
        """The imagined object at `address` (the address's id is irrelevant), or None where it does not exist."""
        target = target_for(address.resource, self.situation)
        return None if target is None else Located(target)


def target_for(resource: Resource, situation: Situation) -> Target | None:
    """Where an object of `resource` is in `situation`: placed as `PLACEMENTS` says; None if nonexistent."""
    if situation is Situation.NONEXISTENT:
        return None
    organization = OTHER_ORGANIZATION if situation is Situation.OTHER_ORGANIZATION else ORGANIZATION
    placement = PLACEMENTS[resource]
    if placement.level is Level.OWNER:  # "own workspace" means the caller's own object here
        return Target(organization, owner_id=CALLER if situation is Situation.OWN_WORKSPACE else SOMEONE_ELSE)
    if placement.workspace is None:
        return Target(organization)
    workspace = {
        Situation.OWN_WORKSPACE: OWN_WORKSPACE,
        Situation.OTHER_WORKSPACE: OTHER_WORKSPACE,
        Situation.OTHER_ORGANIZATION: FOREIGN_WORKSPACE,
    }[situation]
    return Target(organization, workspace_id=workspace)


def cell(  # noqa: PLR0913, PLR0917 - one argument per axis of the matrix
    role: Role, situation: Situation, resource: Resource, action: Action, credential: Credential, table: PolicyTable
) -> Decision:
    """What `authorize` answers when every request that names something names the situation's object.

    The caller's own account is imagined as an object too, so "someone else's account" has a cell (404),
    although no route can name one.
    """
    address = None if is_collection(resource, action) else Address(located_as(resource), SOMEWHERE)
    caller = principal_for(role, credential)
    pending = authorize(caller, resource, action, lambda: address, SituationLookup(situation), table)
    return _run(pending).decision


def _run(pending: Coroutine[Any, Any, Authorization]) -> Authorization:
    """Run a coroutine that never waits (the situation locator has nothing to wait for), without a loop.

    The matrix is built from synchronous code and from inside running event loops alike; a coroutine
    that completes on its first step needs neither.
    """
    try:
        pending.send(None)
    except StopIteration as done:
        result: Authorization = done.value
        return result
    pending.close()
    raise RuntimeError("the matrix's locator waited for something")


def build(table: PolicyTable = POLICY) -> list[Row]:
    """Every cell, in a stable order."""
    return [
        Row(role.value, situation.value, resource.value, action.value, credential.value, d.status, d.code, d.rule)
        for resource in Resource
        for action in Action
        for role in Role
        for situation in Situation
        for credential in Credential
        for d in [cell(role, situation, resource, action, credential, table)]
    ]


def to_json(rows: list[Row]) -> str:
    """The matrix as a JSON array."""
    return msgspec.json.format(msgspec.json.encode(rows).decode(), indent=1)


def to_csv(rows: list[Row]) -> str:
    """The matrix as CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(Row.__struct_fields__)
    writer.writerows([getattr(row, name) for name in Row.__struct_fields__] for row in rows)
    return out.getvalue()


@dataclass(frozen=True)
class _Column:
    title: str
    situation: Situation
    credential: Credential


_COLUMNS: Final = (
    _Column("own workspace", Situation.OWN_WORKSPACE, Credential.SESSION),
    _Column("other workspace", Situation.OTHER_WORKSPACE, Credential.SESSION),
    _Column("other org / missing", Situation.OTHER_ORGANIZATION, Credential.SESSION),
    _Column("full key", Situation.OWN_WORKSPACE, Credential.FULL_KEY),
    _Column("read-only key", Situation.OWN_WORKSPACE, Credential.READ_ONLY_KEY),
    _Column("pinned key, other ws", Situation.OTHER_WORKSPACE, Credential.PINNED_KEY),
)


def to_markdown(table: PolicyTable = POLICY) -> str:
    """POLICY.md: one table per resource, for a product person. Generated; do not edit by hand."""
    lines = [
        "# Tabular permission matrix",
        "",
        "Generated by `tabular policy export --format md` from `src/tabular/policies/table.py`; a test fails",
        "when this file is stale, so every policy change is reviewed here as a diff. Each cell is the HTTP",
        "status the API answers (200 = allowed) and, when refused, the reason code. A caller belongs to",
        '"own workspace" only; for api_key and account, "own workspace" is the caller\'s own object and "other',
        'workspace" someone else\'s. "Other org / missing": another organization\'s object and a nonexistent one',
        "are indistinguishable. Listing and creating workspaces, users, audit events and keys addresses the",
        "organization as a whole, so the situation does not apply there. Keys act as their creator, narrowed by",
        "the key's down-scope. The whole matrix (every situation and credential) is `tabular policy export",
        "--format csv`.",
    ]
    for resource in Resource:
        lines += ["", f"## {resource.value}", ""]
        lines.append("| role | action | " + " | ".join(column.title for column in _COLUMNS) + " |")
        lines.append("|---|---|" + "---|" * len(_COLUMNS))
        for role in Role:
            for action in Action:
                cells = [
                    _short(cell(role, column.situation, resource, action, column.credential, table))
                    for column in _COLUMNS
                ]
                lines.append(f"| {role.value} | {action.value} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _short(decision: Decision) -> str:
    return "200" if decision.allowed else f"{decision.status} {decision.code}"
