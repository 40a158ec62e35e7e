"""A survey's responses indexed in their reading order

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 11:10:00.000000+00:00

Lists, cursors and exports read a survey's responses by (created_at, id); an index on survey_id alone made
the database sort them all before the first row of an export could be sent. The new index starts with
survey_id, so it serves everything the old one did, which goes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("response") as batch_op:
        batch_op.create_index("ix_response_survey_id_created_at_id", ["survey_id", "created_at", "id"], unique=False)
        batch_op.drop_index("ix_response_survey_id")


def downgrade() -> None:
    with op.batch_alter_table("response") as batch_op:
        batch_op.create_index("ix_response_survey_id", ["survey_id"], unique=False)
        batch_op.drop_index("ix_response_survey_id_created_at_id")
