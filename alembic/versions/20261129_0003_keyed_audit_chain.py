"""Audit chain keyed with the server's secret; events numbered per organization

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:32:22.157052+00:00

Existing events are carried over by re-chaining them: each gets its organization's number (`org_seq`, in chain
order) and a new hash, HMAC-SHA256 under `Settings.audit_key` over the new content. The alternative, leaving
them unkeyed and marking where the keyed chain starts, keeps a mark someone with the database but no key
could move to the head and so unkey the whole log. The old chain is verified first: a log already broken is
not re-keyed (that would make the edit verify); the upgrade stops and names the event.

The key is not in the database, so this step needs it passed in: every `tabular` command that migrates
(`serve`, `db upgrade`, the operator commands) passes the key derived from its TABULAR_SECRET_KEY, which must
be the server's. A bare `alembic upgrade` passes none and stops here when there are events to re-chain (an
empty log needs no key).

The hash layouts are written out here rather than imported: a migration keeps the formulas of its revision,
whatever the application's become later. The downgrade re-chains with the old unkeyed SHA-256, without
checking the keyed chain first.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import msgspec
import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import context, op

from tabular.db.migrations import AUDIT_KEY_ATTRIBUTE, MigrationRefusedError

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH: Final = "0" * 64
BATCH: Final = 1000

events = sa.table(
    "audit_event",
    sa.column("id", GUID(length=16)),
    sa.column("seq", sa.BigInteger()),
    sa.column("org_seq", sa.BigInteger()),
    sa.column("organization_id", GUID(length=16)),
    sa.column("actor_user_id", GUID(length=16)),
    sa.column("event", sa.String()),
    sa.column("target_type", sa.String()),
    sa.column("target_id", sa.String()),
    sa.column("data", JsonB),
    sa.column("client_ip", sa.String()),
    sa.column("created_at", DateTimeUTC(timezone=True)),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def content(row: sa.Row[Any], prev_hash: str, org_seq: int | None) -> bytes:
    """What an event's hash covers: 0002's fields, and from 0003 on the organization's number after `seq`."""
    numbers = [row.seq] if org_seq is None else [row.seq, org_seq]
    return msgspec.json.encode(
        [
            prev_hash,
            *numbers,
            str(row.id),
            str(row.organization_id) if row.organization_id else None,
            str(row.actor_user_id) if row.actor_user_id else None,
            row.event,
            row.target_type,
            row.target_id,
            row.data,
            row.client_ip,
            row.created_at.isoformat(),
        ],
        order="sorted",
    )


def unkeyed_hash(row: sa.Row[Any], prev_hash: str) -> str:
    """0002's hash: SHA-256, no key."""
    return hashlib.sha256(content(row, prev_hash, None)).hexdigest()


def batches(bind: sa.Connection) -> Iterator[Sequence[sa.Row[Any]]]:
    """Every event in `seq` order, a thousand at a time (keyset pagination: memory stays flat)."""
    after, columns = 0, [column for column in events.c if column.name != "org_seq"]  # not there before the upgrade
    while rows := bind.execute(
        sa.select(*columns).where(events.c.seq > after).order_by(events.c.seq).limit(BATCH)
    ).all():
        yield rows
        after = rows[-1].seq


def check_unkeyed(bind: sa.Connection) -> None:
    """0002's `tabular audit verify`: a chain already broken is not re-keyed, as that would make the edit verify."""
    expected, head = 1, GENESIS_HASH
    for rows in batches(bind):
        for row in rows:
            if row.seq != expected or row.prev_hash != head or unkeyed_hash(row, head) != row.hash:
                raise MigrationRefusedError(
                    f"the audit chain is already broken at seq {expected}, so revision 0003 does not re-key it "
                    "(the edit would then verify); investigate, restore audit_event from a backup, and upgrade again"
                )
            expected, head = row.seq + 1, row.hash


def rechain(bind: sa.Connection, new_hash: Callable[[sa.Row[Any], str, int], str]) -> None:
    """Give each event, in `seq` order, its organization's number, the new `prev_hash` and its new hash."""
    head, last_in = GENESIS_HASH, dict[Any, int]()
    for rows in batches(bind):
        changes = []
        for row in rows:
            org_seq = last_in[row.organization_id] = last_in.get(row.organization_id, 0) + 1
            hashed = new_hash(row, head, org_seq)
            changes.append({"row_id": row.id, "new_org_seq": org_seq, "new_prev_hash": head, "new_hash": hashed})
            head = hashed
        bind.execute(
            events.update()
            .where(events.c.id == sa.bindparam("row_id"))
            .values(
                org_seq=sa.bindparam("new_org_seq"),
                prev_hash=sa.bindparam("new_prev_hash"),
                hash=sa.bindparam("new_hash"),
            ),
            changes,
        )


def upgrade() -> None:
    bind = op.get_bind()
    key = context.config.attributes.get(AUDIT_KEY_ATTRIBUTE)
    if key is None and bind.scalar(sa.select(sa.func.count()).select_from(events)):
        raise MigrationRefusedError(
            "revision 0003 re-hashes the audit log with the key derived from TABULAR_SECRET_KEY: run "
            "`tabular db upgrade` with the server's secret (a bare `alembic upgrade` has no key)"
        )
    check_unkeyed(bind)  # before any change: SQLite does not roll DDL back
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("org_seq", sa.BigInteger(), nullable=True))
    rechain(bind, lambda row, prev_hash, org_seq: hmac.new(key, content(row, prev_hash, org_seq), "sha256").hexdigest())
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("org_seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint("uq_audit_event_organization_id_org_seq", ["organization_id", "org_seq"])


def downgrade() -> None:
    rechain(op.get_bind(), lambda row, prev_hash, _org_seq: unkeyed_hash(row, prev_hash))
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_event_organization_id_org_seq", type_="unique")
        batch_op.drop_column("org_seq")
