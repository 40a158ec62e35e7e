"""Survey metrics computed in SQL (three GROUP BY queries, no response loaded), exact or under disclosure control."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Date, case, cast, distinct, func, or_, select

from tabular.db import Answer, QuestionKind, Response
from tabular.policies.decision import Target, decide
from tabular.schemas.metrics import (
    ChoiceCount,
    DayCount,
    Disclosure,
    QuestionMetrics,
    RatingCount,
    SurveyMetrics,
)
from tabular.services.actor import Service
from tabular.vocabulary import Action, Resource

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy import ColumnElement, Subquery
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import Principal
    from tabular.db import Question, Survey


@dataclass(frozen=True, slots=True)
class Release:
    """How figures are released. The reasoning of disclosure control is in `SurveyMetrics`'s docstring.

    Responses count in batches of `base` (a view moves only when `base` more have answered, so differencing
    two views never isolates one respondent), every count is rounded to a multiple of `base` (a distribution
    as a whole, so that its total solves none of its counts), and a question answered fewer than `minimum`
    times is withheld. A base of 1 changes nothing: exact figures.
    """

    disclosure: Disclosure
    base: int
    minimum: int


EXACT: Final = Release(Disclosure.EXACT, base=1, minimum=0)
CONTROLLED: Final = Release(Disclosure.CONTROLLED, base=5, minimum=5)


def release_for(principal: Principal, survey: Survey) -> Release:
    """Exact figures for whoever the policy lets read this survey's responses; disclosure control for anyone else.

    Decided from the policy table, not from a list of roles: members and admins may read the responses (so
    exact counts tell them nothing new), clients may not. `survey` was authorized, so it is in the caller's
    organization.
    """
    responses = Target(principal.organization_id, workspace_id=survey.workspace_id)
    return EXACT if decide(principal, Resource.RESPONSE, Action.READ, responses).allowed else CONTROLLED


class MetricsService(Service):
    """A survey's metrics as the caller may see them: the release is decided here, once, from the principal."""

    async def of(self, survey: Survey) -> SurveyMetrics:
        """Metrics of an authorized survey (questions loaded)."""
        return await survey_metrics(self.session, survey, release_for(self.actor.caller, survey))


async def survey_metrics(session: AsyncSession, survey: Survey, release: Release) -> SurveyMetrics:
    """Totals, completion, per-day counts and per-question distributions of `survey` (questions loaded).

    Authorization and the choice of `release` are the caller's business: this reads whatever survey it is given.
    """
    counted = _counted(survey, release.base)
    day = _utc_date(session, counted.c.created_at)
    done = func.coalesce(func.sum(case((counted.c.completed, 1), else_=0)), 0)
    days = (await session.execute(select(day, func.count(), done).group_by(day).order_by(day))).tuples().all()
    answers = select(Answer.question_id).join(counted, counted.c.id == Answer.response_id).group_by(Answer.question_id)
    answered_query = answers.add_columns(func.count(distinct(Answer.response_id)))
    answered = dict((await session.execute(answered_query)).tuples().all())
    values: defaultdict[UUID, dict[Any, int]] = defaultdict(dict)
    values_query = (
        answers.add_columns(Answer.choice, Answer.rating, func.count())
        .where(or_(Answer.choice.is_not(None), Answer.rating.is_not(None)))
        .group_by(Answer.choice, Answer.rating)
    )
    for question_id, choice, rating, count in await session.execute(values_query):
        values[question_id][choice if choice is not None else rating] = count

    total = sum(count for _, count, _ in days)  # a multiple of the base: see _counted
    completed = round_to(sum(finished for _, _, finished in days), release.base)
    per_day = round_together([count for _, count, _ in days], release.base)
    return SurveyMetrics(
        survey_id=survey.id,
        status=survey.status,
        disclosure=release.disclosure,
        total=total,
        completed=completed,
        completion_rate=round(completed / total, 4) if total else None,
        per_day=[
            DayCount(count=count, suppressed=False, date=_as_date(value))
            for (value, _, _), count in zip(days, per_day, strict=True)
        ],
        questions=[
            _question(question, answered.get(question.id, 0), values[question.id], release)
            for question in survey.questions
        ],
    )


def _counted(survey: Survey, base: int) -> Subquery:
    """The responses the figures count: of the survey's N, the first `base` * (N // base) in order of arrival.

    A later response can only join the counted ones, with `base - 1` others, so what was counted stays counted.
    """
    columns = (Response.id, Response.completed, Response.created_at)
    of_survey = Response.survey_id == survey.id
    if base == 1:  # every response: no need to number them
        return select(*columns).where(of_survey).subquery("counted")
    arrival = func.row_number().over(order_by=(Response.created_at, Response.id)).label("arrival")
    received = func.count().over().label("received")
    ranked = select(*columns, arrival, received).where(of_survey).subquery("ranked")
    first = ranked.c.arrival <= ranked.c.received - ranked.c.received % base
    return select(ranked.c.id, ranked.c.completed, ranked.c.created_at).where(first).subquery("counted")


def _question(question: Question, answered: int, values: dict[Any, int], release: Release) -> QuestionMetrics:
    withheld = answered < release.minimum
    options: list[Any] = []
    if question.kind in {QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE}:
        options = list(question.choices or [])
    elif question.kind is QuestionKind.RATING:
        options = list(range(1, (question.scale or 0) + 1))
    shown = round_together([values.get(option, 0) for option in options], release.base)
    counts = [(option, None if withheld else count) for option, count in zip(options, shown, strict=True)]
    choices: list[ChoiceCount] | None = None
    ratings: list[RatingCount] | None = None
    mean: float | None = None
    if question.kind is QuestionKind.RATING:
        ratings = [RatingCount(count=count, suppressed=withheld, rating=rating) for rating, count in counts]
        rated = sum(shown)
        if rated and not withheld:  # the mean of the counts shown: it tells nothing they do not
            mean = round(sum(rating * count for rating, count in zip(options, shown, strict=True)) / rated, 2)
    elif options:
        choices = [ChoiceCount(count=count, suppressed=withheld, choice=choice) for choice, count in counts]
    return QuestionMetrics(
        question_id=question.id,
        position=question.position,
        kind=question.kind,
        text=question.text,
        answered=None if withheld else round_to(answered, release.base),
        choices=choices,
        ratings=ratings,
        mean=mean,
    )


def round_to(count: int, base: int) -> int:
    """To the nearest multiple of `base` (never a tie: 0-2 go to 0 and 3-7 to 5 for a base of 5)."""
    return (count + base // 2) // base * base


def round_together(counts: list[int], base: int) -> list[int]:
    """Controlled rounding: each count to a neighbouring multiple of `base`, adding up to their total rounded.

    All are rounded down, then those with the largest remainders (the first of equal ones) up, as many as the
    rounded total needs (never more than have a remainder). Whatever the other counts shown, any exact count
    within `base // 2` of a count shown fits them and the rounded total: the total solves no count.
    """
    floors = [count - count % base for count in counts]
    raised = (round_to(sum(counts), base) - sum(floors)) // base
    largest = set(sorted(range(len(counts)), key=lambda index: counts[index] % base, reverse=True)[:raised])
    return [floor + base if index in largest else floor for index, floor in enumerate(floors)]


def _utc_date(session: AsyncSession, column: ColumnElement[dt.datetime]) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp: PostgreSQL's date() would follow the session's time zone."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps UTC text: its date() is the UTC day


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
