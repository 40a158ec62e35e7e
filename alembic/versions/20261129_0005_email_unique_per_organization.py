"""An email is unique within its organization, not across them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:10:00.000000+00:00

Inviting an email that has an account in another organization answered 409 `email_taken`, which told any
organization's admin who has an account anywhere. Each organization's account is now its own; sign-in finds
them by email (an index, no longer unique) and the password says which. Downgrading is refused while an email
has accounts in two organizations: the unique constraint it would bring back cannot hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint("uq_user_account_email", type_="unique")
        batch_op.create_unique_constraint("uq_user_account_organization_id_email", ["organization_id", "email"])
        batch_op.create_index("ix_user_account_email", ["email"], unique=False)


def downgrade() -> None:
    shared = op.get_bind().execute(
        sa.text("SELECT count(*) FROM (SELECT email FROM user_account GROUP BY email HAVING count(*) > 1) AS shared")
    )
    if shared.scalar_one():
        message = "some emails have accounts in several organizations; a unique email across them cannot hold"
        raise RuntimeError(message)
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index("ix_user_account_email")
        batch_op.drop_constraint("uq_user_account_organization_id_email", type_="unique")
        batch_op.create_unique_constraint("uq_user_account_email", ["email"])
