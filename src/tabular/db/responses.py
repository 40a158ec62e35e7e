"""Responses to surveys, one row per answer so metrics aggregate in SQL."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tabular.db.base import Base, BaseNoAudit


class Response(Base):
    """One respondent's submission; may carry personal data (name, email)."""

    __tablename__ = "response"
    __table_args__ = (
        # A survey's responses in the order lists, cursors and exports read them: no sort, streamed.
        Index("ix_response_survey_id_created_at_id", "survey_id", "created_at", "id"),
    )

    survey_id: Mapped[UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    submitted_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    """The member who imported it; None for a public submission."""
    completed: Mapped[bool] = mapped_column(Boolean, default=True)
    respondent_name: Mapped[str | None] = mapped_column(String(200), default=None)
    respondent_email: Mapped[str | None] = mapped_column(String(320), default=None)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", lazy="selectin"
    )


class Answer(BaseNoAudit):
    """One value given to one question; a multiple-choice answer is one row per chosen option."""

    __tablename__ = "answer"

    response_id: Mapped[UUID] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[UUID] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    choice: Mapped[str | None] = mapped_column(String(200), default=None)
    rating: Mapped[int | None] = mapped_column(Integer, default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)

    response: Mapped[Response] = relationship(back_populates="answers", lazy="noload")
