"""`/api/surveys` bodies: a survey and its questions, a msgspec tagged union on `kind`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final
from uuid import UUID

import msgspec

from tabular.db.surveys import QuestionKind, SurveyStatus

MAX_QUESTIONS: Final = 200
MAX_CHOICES: Final = 50

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=10_000)]
QuestionText = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
ChoiceText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Choices = Annotated[list[ChoiceText], msgspec.Meta(min_length=1, max_length=MAX_CHOICES)]
"""1-50 options of 1-200 characters; that they are unique is checked with the rest of the survey."""
Scale = Annotated[int, msgspec.Meta(ge=2, le=10)]


class SingleChoiceQuestion(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag=QuestionKind.SINGLE_CHOICE.value
):
    """The respondent picks exactly one of `choices`."""

    text: QuestionText
    choices: Choices
    required: bool = False


class MultipleChoiceQuestion(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag=QuestionKind.MULTIPLE_CHOICE.value
):
    """The respondent picks one or more of `choices`."""

    text: QuestionText
    choices: Choices
    required: bool = False


class RatingQuestion(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag=QuestionKind.RATING.value
):
    """The respondent gives a whole number from 1 to `scale` (2-10)."""

    text: QuestionText
    scale: Scale
    required: bool = False


class TextQuestion(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag=QuestionKind.TEXT.value
):
    """The respondent writes free text (up to 5,000 characters)."""

    text: QuestionText
    required: bool = False


QuestionIn = SingleChoiceQuestion | MultipleChoiceQuestion | RatingQuestion | TextQuestion
Questions = Annotated[list[QuestionIn], msgspec.Meta(max_length=MAX_QUESTIONS)]


class SurveyCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new survey, created as a draft in the workspace named by `?workspace_id=`."""

    title: Title
    description: Description = ""
    questions: Questions = msgspec.field(default_factory=list)


class SurveyUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The fields to change; absent ones stay. `questions` replaces the whole list, and only in a draft."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    questions: Questions | msgspec.UnsetType = msgspec.UNSET


class QuestionView(msgspec.Struct, frozen=True):
    """A question as stored: `choices` for the choice kinds, `scale` for rating, otherwise null."""

    id: UUID
    position: int
    kind: QuestionKind
    text: str
    required: bool
    choices: list[str] | None
    scale: int | None


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
