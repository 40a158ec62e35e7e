"""Survey metrics: aggregates only, with small counts suppressed, and nothing that identifies a respondent."""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal
from uuid import UUID

import msgspec

from tabular.db.surveys import QuestionKind, SurveyStatus

SMALL_COUNT_THRESHOLD: Final = 5
SMALL_COUNT: Final = "<5"

Count = int | Literal["<5"]
"""A count in a distribution or a per-day bucket: 0 or 5 and above exactly, 1-4 as the string "<5"."""


class DayCount(msgspec.Struct, frozen=True):
    """Responses received on one UTC calendar day."""

    date: dt.date
    responses: Count


class ChoiceCount(msgspec.Struct, frozen=True):
    """How many responses picked one option."""

    choice: str
    count: Count


class RatingCount(msgspec.Struct, frozen=True):
    """How many responses gave one rating."""

    rating: int
    count: Count


class QuestionMetrics(msgspec.Struct, frozen=True):
    """One question's distribution.

    `answered` (responses that answered it) is exact. Choice questions have `choices` (every option, in
    the question's order); rating questions have `ratings` (1..scale) and `mean`, which is null when fewer
    than 5 responses rated (a mean of one or two ratings would give them away). Free-text questions
    have only `answered`: no text ever appears in metrics.
    """

    question_id: UUID
    position: int
    kind: QuestionKind
    text: str
    answered: int
    choices: list[ChoiceCount] | None
    ratings: list[RatingCount] | None
    mean: float | None


class SurveyMetrics(msgspec.Struct, frozen=True):
    """Aggregate figures of a survey's responses, safe to show to anyone who may see the survey.

    Small-count rule: every count in a distribution (`questions[].choices[].count`,
    `questions[].ratings[].count`) or a per-day bucket (`per_day[].responses`) between 1 and 4 is
    reported as the string "<5", so a small group of respondents cannot be singled out; 0 and counts of
    5 or more are exact numbers. The totals (`total`, `completed`, `questions[].answered`) are always exact.
    No personal data in any form: no names, emails, free text or response ids.
    `completion_rate` is completed / total (0-1, 4 decimals), null without responses. `per_day` lists the
    UTC dates that received responses, oldest first.
    """

    survey_id: UUID
    status: SurveyStatus
    total: int
    completed: int
    completion_rate: float | None
    per_day: list[DayCount]
    questions: list[QuestionMetrics]
