"""Second factor at rest: room for sealed TOTP secrets and keyed recovery codes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:00:00.000000+00:00

Only the columns change here: sealing needs the server secret, which a migration does not have. Values
written before (a TOTP secret in the clear, a bare SHA-256 of a recovery code) carry no `vN:` prefix and are
still read; `tabular serve` seals them all when it starts, and any left are sealed at the user's next
second-factor check. Downgrading is refused once anything is sealed: the code before 0004 cannot read it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("user_account", "totp_secret", True), ("recovery_code", "code_hash", False))


def upgrade() -> None:
    for table, column, nullable in _COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.String(length=64), type_=sa.String(length=128), existing_nullable=nullable
            )


def downgrade() -> None:
    connection = op.get_bind()
    for table, column, _ in _COLUMNS:
        count = f"SELECT count(*) FROM {table} WHERE {column} LIKE '%:%'"  # noqa: S608 - names from _COLUMNS
        sealed = connection.execute(sa.text(count)).scalar_one()
        if sealed:
            raise RuntimeError(
                f"{sealed} values of {table}.{column} are sealed under the server secret, which the code before "
                "0004 cannot read: turn those users' MFA off (they enrol again) or restore a backup, then downgrade"
            )
    for table, column, nullable in _COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.String(length=128), type_=sa.String(length=64), existing_nullable=nullable
            )
