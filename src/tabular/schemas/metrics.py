"""Survey metrics: aggregates only, with small counts suppressed, and nothing that identifies a respondent."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, Self
from uuid import UUID

import msgspec

from tabular.db.surveys import QuestionKind, SurveyStatus

SMALL_COUNT_THRESHOLD: Final = 5


class Count(msgspec.Struct, frozen=True):
    """A count that may be too small to show: `count` is exact (0, or 5 and more), or null with `suppressed`.

    A count of 1 to 4 is withheld (`{"count": null, "suppressed": true}`) so that a small group of
    respondents cannot be singled out.
    """

    count: int | None
    suppressed: bool

    @classmethod
    def of(cls, count: int, **fields: Any) -> Self:  # noqa: ANN401 - the subclass's own fields
        """The small-count rule, applied once here: 1-4 is suppressed; 0 and 5 or more stay exact."""
        suppressed = 0 < count < SMALL_COUNT_THRESHOLD
        return cls(count=None if suppressed else count, suppressed=suppressed, **fields)


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

    Small-count rule: every count in a distribution (`questions[].choices[]`, `questions[].ratings[]`) or
    a per-day bucket (`per_day[]`) between 1 and 4 is withheld (`"count": null, "suppressed": true`), so a
    small group of respondents cannot be singled out; 0 and counts of 5 or more are exact. The totals
    (`total`, `completed`, `questions[].answered`) are always exact.
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
