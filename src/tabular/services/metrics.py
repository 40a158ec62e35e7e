"""Survey metrics computed in SQL (four GROUP BY queries, no response loaded), with small counts suppressed."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, case, cast, distinct, func, or_, select

from tabular.db import Answer, Question, QuestionKind, Response
from tabular.schemas.metrics import (
    SMALL_COUNT_THRESHOLD,
    ChoiceCount,
    DayCount,
    QuestionMetrics,
    RatingCount,
    SurveyMetrics,
)

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import InstrumentedAttribute

    from tabular.db import Survey


async def survey_metrics(session: AsyncSession, survey: Survey) -> SurveyMetrics:
    """Totals, completion, per-day counts and per-question distributions of `survey` (questions loaded).

    Authorization is the caller's business: this reads whatever survey it is given.
    """
    of_survey = Response.survey_id == survey.id
    totals = select(func.count(Response.id), func.coalesce(func.sum(case((Response.completed, 1), else_=0)), 0))
    total, completed = (await session.execute(totals.where(of_survey))).one()
    day = _utc_date(session, Response.created_at)
    days = await session.execute(select(day, func.count(Response.id)).where(of_survey).group_by(day).order_by(day))
    answered_query = select(Answer.question_id, func.count(distinct(Answer.response_id)))
    answered = dict((await session.execute(_answers_of(answered_query, survey))).tuples().all())
    values: defaultdict[UUID, dict[Any, int]] = defaultdict(dict)
    values_query = select(Answer.question_id, Answer.choice, Answer.rating, func.count()).where(
        or_(Answer.choice.is_not(None), Answer.rating.is_not(None))
    )
    for question_id, choice, rating, count in await session.execute(
        _answers_of(values_query, survey).group_by(Answer.choice, Answer.rating)
    ):
        values[question_id][choice if choice is not None else rating] = count
    return SurveyMetrics(
        survey_id=survey.id,
        status=survey.status,
        total=total,
        completed=completed,
        completion_rate=round(completed / total, 4) if total else None,
        per_day=[DayCount.of(count, date=_as_date(value)) for value, count in days],
        questions=[
            _question(question, answered.get(question.id, 0), values[question.id]) for question in survey.questions
        ],
    )


def _answers_of(query: Select[Any], survey: Survey) -> Select[Any]:
    """Restrict an aggregate over answers to the survey's questions, grouped per question."""
    return (
        query.join(Question, Question.id == Answer.question_id)
        .where(Question.survey_id == survey.id)
        .group_by(Answer.question_id)
    )


def _question(question: Question, answered: int, values: dict[Any, int]) -> QuestionMetrics:
    choices: list[ChoiceCount] | None = None
    ratings: list[RatingCount] | None = None
    mean: float | None = None
    if question.kind in {QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE}:
        choices = [ChoiceCount.of(values.get(choice, 0), choice=choice) for choice in question.choices or []]
    elif question.kind is QuestionKind.RATING:
        histogram = {rating: values.get(rating, 0) for rating in range(1, (question.scale or 0) + 1)}
        ratings = [RatingCount.of(count, rating=rating) for rating, count in histogram.items()]
        rated = sum(histogram.values())
        if rated >= SMALL_COUNT_THRESHOLD:
            mean = round(sum(rating * count for rating, count in histogram.items()) / rated, 2)
    return QuestionMetrics(
        question_id=question.id,
        position=question.position,
        kind=question.kind,
        text=question.text,
        answered=answered,
        choices=choices,
        ratings=ratings,
        mean=mean,
    )


def _utc_date(session: AsyncSession, column: InstrumentedAttribute[dt.datetime]) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp: PostgreSQL's date() would follow the session's time zone."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps UTC text: its date() is the UTC day


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
