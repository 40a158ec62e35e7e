"""Response bodies: answers in, and (for members only) responses out with the respondent's personal data."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Final
from uuid import UUID

import msgspec

from tabular.schemas.rules import Email, Input, Name, line, text
from tabular.schemas.surveys import MAX_CHOICES, MAX_QUESTIONS

MAX_TEXT_ANSWER: Final = 5000

AnswerText = Annotated[str, text(MAX_TEXT_ANSWER, "1-5,000 characters; line breaks allowed", blank=False)]
ChosenOption = Annotated[str, line(200, "One of the question's choices")]


class AnswerIn(Input, frozen=True):
    """One answer: exactly one of `choice` (single choice), `choices` (multiple), `rating` or `text`."""

    question_id: UUID
    choice: ChosenOption | None = None
    choices: Annotated[list[ChosenOption], msgspec.Meta(max_length=MAX_CHOICES)] | None = None
    rating: Annotated[int, msgspec.Meta(ge=1, le=10)] | None = None
    text: AnswerText | None = None


class ResponseCreate(Input, frozen=True):
    """A submission: at most one answer per question; a question left out is unanswered."""

    answers: Annotated[list[AnswerIn], msgspec.Meta(max_length=MAX_QUESTIONS)]
    respondent_name: Name | None = None
    respondent_email: Email | None = None


class ResponseCreated(msgspec.Struct, frozen=True):
    """What a public respondent gets back: the id only, never their own data echoed."""

    id: UUID


class AnswerView(msgspec.Struct, frozen=True, omit_defaults=True):
    """One question's answer, in the shape it was submitted (absent fields are not part of it)."""

    question_id: UUID
    choice: str | None = None
    choices: list[str] | None = None
    rating: Annotated[int, msgspec.Meta(ge=1, le=10)] | None = None
    text: str | None = None


class ResponseView(msgspec.Struct, frozen=True):
    """A response as members see it, personal data included; answers in question order."""

    id: UUID
    survey_id: UUID
    created_at: dt.datetime
    completed: bool
    submitted_by_id: UUID | None
    """The member who imported it; null for a public submission."""
    respondent_name: str | None
    respondent_email: str | None
    answers: list[AnswerView]


class ExportFormat(StrEnum):
    """How `/responses/export` writes the responses."""

    CSV = "csv"
    """One row per response, one column per question; several choices in one cell, separated by `; `."""
    NDJSON = "ndjson"
    """One JSON object per line, each as the response list shows it."""
