"""Survey metrics: aggregates only, exact for those who may read the responses, under disclosure control for clients."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum, auto
from uuid import UUID

import msgspec

from tabular.db.surveys import QuestionKind, SurveyStatus


class Disclosure(StrEnum):
    """The rule a survey's metrics were released under (see `SurveyMetrics`).

    `exact` for callers who may read the responses themselves; `controlled` (disclosure control) for anyone
    else: clients.
    """

    EXACT = auto()
    """Every figure exact: for members and admins, who may read the responses themselves."""
    CONTROLLED = auto()
    """Disclosure control: for clients, who see numbers and must never single out a respondent."""


class Count(msgspec.Struct, frozen=True):
    """A count: exact, rounded to a multiple of 5 (under disclosure control), or withheld.

    `{"count": null, "suppressed": true}` when its question is withheld (under disclosure control, a
    question with fewer than 5 answers).
    """

    count: int | None
    suppressed: bool


class DayCount(Count, frozen=True):
    """Responses received on one UTC calendar day."""

    date: dt.date


class ChoiceCount(Count, frozen=True):
    """How many responses picked one option."""

    choice: str


class RatingCount(Count, frozen=True):
    """How many responses gave one rating."""

    rating: int


class QuestionMetrics(msgspec.Struct, frozen=True):
    """One question's distribution.

    `answered`: responses that answered it; null when the question is withheld, and then every count is
    suppressed and `mean` is null. Choice questions have `choices` (every option, in the question's order);
    rating questions have `ratings` (1..scale) and `mean` (2 decimals; null without ratings), computed from
    the counts shown. Free-text questions have only `answered`: no text ever appears in metrics.
    """

    question_id: UUID
    position: int
    kind: QuestionKind
    text: str
    answered: int | None
    choices: list[ChoiceCount] | None
    ratings: list[RatingCount] | None
    mean: float | None


class SurveyMetrics(msgspec.Struct, frozen=True):
    """Aggregate figures of a survey's responses, released under one of two rules (`disclosure`).

    `exact` (members and admins, who may read the responses anyway): every figure is exact; nothing is
    withheld.

    `controlled` (clients, on dashboards), so that neither arithmetic on one view nor the difference of two
    views recovers what a respondent answered:
    - Figures count the first responses in multiples of 5 (`total` is always one): a client's view changes
      only when 5 more respondents have answered, so comparing views before and after one answers shows
      nothing. (Rounding alone would not do: a count going from 7 to 8 shows as 5, then 10.)
    - Every count is rounded to a multiple of 5. A distribution (`per_day`, a question's `choices` or
      `ratings`) is rounded as a whole: its total to the nearest multiple of 5 (which is `answered` for a
      single-choice or rating question), each count up or down to a neighbouring multiple so that they still
      add up to it (largest remainders up). A count shown as 0 was 0-4, one shown as N was N-4 to N+4, and
      whatever the other counts shown, every value within 2 of it fits them and the total: subtracting the
      others from the total pins nothing down.
    - A question answered fewer than 5 times is withheld (`answered` null, counts suppressed).
    - `completion_rate` and `mean` are computed from the rounded figures shown, never from exact ones, so
      they tell nothing the counts do not.

    No personal data in any form: no names, emails, free text or response ids. `completion_rate` is
    completed / total (0-1, 4 decimals), null without responses. `per_day` lists the UTC dates that
    received responses, oldest first.
    """

    survey_id: UUID
    status: SurveyStatus
    disclosure: Disclosure
    total: int
    completed: int
    completion_rate: float | None
    per_day: list[DayCount]
    questions: list[QuestionMetrics]
