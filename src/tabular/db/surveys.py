"""Surveys and their ordered questions."""

from __future__ import annotations

from enum import StrEnum, auto
from typing import Any
from uuid import UUID

from advanced_alchemy.types import JsonB
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tabular.db.base import Base, enum_column_type


class SurveyStatus(StrEnum):
    """Lifecycle: only a published survey accepts public responses."""

    DRAFT = auto()
    PUBLISHED = auto()
    CLOSED = auto()


class QuestionKind(StrEnum):
    """The four kinds of question a survey can ask."""

    SINGLE_CHOICE = auto()
    MULTIPLE_CHOICE = auto()
    RATING = auto()
    TEXT = auto()


class Survey(Base):
    """A questionnaire in one workspace."""

    __tablename__ = "survey"

    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SurveyStatus] = mapped_column(enum_column_type(SurveyStatus), default=SurveyStatus.DRAFT)

    questions: Mapped[list[Question]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", order_by="Question.position", lazy="selectin"
    )


class Question(Base):
    """One question of a survey, at a fixed position."""

    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("survey_id", "position"),)

    survey_id: Mapped[UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[QuestionKind] = mapped_column(enum_column_type(QuestionKind))
    text: Mapped[str] = mapped_column(String(1000))
    choices: Mapped[list[Any] | None] = mapped_column(JsonB, default=None)
    """The allowed answers of a choice question."""
    scale: Mapped[int | None] = mapped_column(Integer, default=None)
    """The top of a rating question's 1..scale range."""
    required: Mapped[bool] = mapped_column(Boolean, default=False)

    survey: Mapped[Survey] = relationship(back_populates="questions", lazy="noload")
