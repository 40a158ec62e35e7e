"""`/api/surveys` bodies: a survey and its questions, a msgspec tagged union on `kind`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final
from uuid import UUID

import msgspec

from tabular.db.surveys import QuestionKind, SurveyStatus
from tabular.schemas.rules import Input, Name, line, text

MAX_QUESTIONS: Final = 200
MAX_CHOICES: Final = 50

Description = Annotated[str, text(10_000, "Up to 10,000 characters; line breaks allowed")]
QuestionText = Annotated[str, text(1000, "1-1,000 characters; line breaks allowed", blank=False)]
ChoiceText = Annotated[str, line(200, "1-200 characters, one line")]
Choices = Annotated[list[ChoiceText], msgspec.Meta(min_length=1, max_length=MAX_CHOICES)]
"""1-50 options of 1-200 characters; that they are unique is checked with the rest of the survey."""
Scale = Annotated[int, msgspec.Meta(ge=2, le=10)]


class _Question(Input, frozen=True, kw_only=True, tag_field="kind"):
    text: QuestionText
    required: bool = False


class _ChoiceQuestion(_Question, frozen=True):
    choices: Choices


class SingleChoiceQuestion(_ChoiceQuestion, frozen=True, tag=QuestionKind.SINGLE_CHOICE.value):
    """The respondent picks exactly one of `choices`."""


class MultipleChoiceQuestion(_ChoiceQuestion, frozen=True, tag=QuestionKind.MULTIPLE_CHOICE.value):
    """The respondent picks one or more of `choices`."""


class RatingQuestion(_Question, frozen=True, tag=QuestionKind.RATING.value):
    """The respondent gives a whole number from 1 to `scale` (2-10)."""

    scale: Scale


class TextQuestion(_Question, frozen=True, tag=QuestionKind.TEXT.value):
    """The respondent writes free text (up to 5,000 characters)."""


QuestionIn = SingleChoiceQuestion | MultipleChoiceQuestion | RatingQuestion | TextQuestion
Questions = Annotated[list[QuestionIn], msgspec.Meta(max_length=MAX_QUESTIONS)]


class SurveyCreate(Input, frozen=True):
    """A new survey, created as a draft in the workspace named by `?workspace_id=`."""

    title: Name
    description: Description = ""
    questions: Questions = msgspec.field(default_factory=list)


class SurveyUpdate(Input, frozen=True):
    """The fields to change; absent ones stay. `questions` replaces the whole list, and only in a draft."""

    title: Name | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    questions: Questions | msgspec.UnsetType = msgspec.UNSET


class PublicQuestionView(msgspec.Struct, frozen=True):
    """A question as a respondent needs it: its id (to answer it), kind, text and options."""

    id: UUID
    kind: QuestionKind
    text: str
    required: bool
    choices: list[str] | None
    scale: int | None


# What the survey's readers see of a question: what a respondent sees, and its place in the order.
class QuestionView(PublicQuestionView, frozen=True):
    """A question as stored: `choices` for the choice kinds, `scale` for rating, otherwise null."""

    position: int


class SurveyView(msgspec.Struct, frozen=True):
    """A survey with its questions in order."""

    id: UUID
    workspace_id: UUID
    title: str
    description: str
    status: SurveyStatus
    created_by_id: UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
    questions: list[QuestionView]


class PublicSurveyView(msgspec.Struct, frozen=True):
    """A published survey as anyone may read it: no id of a person, no workspace, no status or dates."""

    title: str
    description: str
    questions: list[PublicQuestionView]
