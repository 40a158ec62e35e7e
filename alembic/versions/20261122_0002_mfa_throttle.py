"""Second-factor throttle: consecutive wrong codes per user

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:57:47.153820+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mfa_failures", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("mfa_failed_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("mfa_failed_at")
        batch_op.drop_column("mfa_failures")
