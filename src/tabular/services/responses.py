"""Responses: checked against the survey's questions, stored one answer row per value, listed for members."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Final, Protocol
from uuid import UUID

from sqlalchemy import select

from tabular.db import Answer, Question, QuestionKind, Response, Survey, SurveyStatus, WebhookEvent
from tabular.errors import Conflict, FieldError, NotFound, ValidationFailed
from tabular.schemas.common import wire
from tabular.schemas.responses import AnswerIn, AnswerView, ResponseCreate, ResponseCreated, ResponseView
from tabular.schemas.surveys import PublicQuestionView, PublicSurveyView
from tabular.services.actor import Service
from tabular.services.common import Keyset, cursor_page
from tabular.webhooks.events import enqueue

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tabular.schemas.common import CursorPage, Pagination

BODY: Final = "body"

VALUE_FIELDS: Final = ("choice", "choices", "rating", "text")
_FIELD_FOR: Final = {
    QuestionKind.SINGLE_CHOICE: "choice",
    QuestionKind.MULTIPLE_CHOICE: "choices",
    QuestionKind.RATING: "rating",
    QuestionKind.TEXT: "text",
}
NOT_A_CHOICE: Final = "not one of the question's choices"


class ResponseService(Service):
    """Respondents submit to published surveys only; members read responses (personal data included)."""

    async def listing(self, survey: Survey, pagination: Pagination, cursor: str | None) -> CursorPage[ResponseView]:
        """The survey's responses, newest first (answers in one more query), by offset or after a cursor."""
        query = select(Response).where(Response.survey_id == survey.id)
        ordered = query.order_by(Response.created_at.desc(), Response.id.desc())
        keyset = Keyset(
            self.actor.engine.cursors,
            f"responses:{survey.id}",
            (Response.created_at, Response.id),
            (dt.datetime.fromisoformat, UUID),
        )
        view = lambda row: response_view(survey, row[0])  # noqa: E731
        return await cursor_page(self.session, ordered, pagination, view, keyset=keyset, cursor=cursor)

    async def import_response(self, survey: Survey, body: ResponseCreate) -> ResponseView:
        """A response a member collected elsewhere; the survey must be open (published)."""
        if survey.status is not SurveyStatus.PUBLISHED:
            raise Conflict(
                f"Only a published survey takes responses; this one is {survey.status.value}.", code="survey_not_open"
            )
        response = await self._store(survey, body, submitted_by_id=self.actor.caller.user_id)
        return response_view(survey, response)

    async def submit(self, survey_id: UUID, body: ResponseCreate) -> ResponseCreated:
        """A respondent's answers to a published survey; a draft is invisible (404), a closed one says so."""
        survey = await self._open(survey_id)
        response = await self._store(survey, body, submitted_by_id=None)
        return ResponseCreated(id=response.id)

    async def form(self, survey_id: UUID) -> PublicSurveyView:
        """What a respondent needs to answer a survey, found as `submit` finds it (404 for a draft, 409 closed)."""
        survey = await self._open(survey_id)
        return wire(PublicSurveyView, survey, questions=[wire(PublicQuestionView, q) for q in survey.questions])

    async def _open(self, survey_id: UUID) -> Survey:
        """The survey a respondent may answer: published; a draft or unknown one is 404, a closed one 409."""
        survey = await self.session.scalar(select(Survey).where(Survey.id == survey_id))
        if survey is None or survey.status is SurveyStatus.DRAFT:
            raise NotFound
        if survey.status is SurveyStatus.CLOSED:
            raise Conflict("This survey is closed and takes no more responses.", code="survey_closed")
        return survey

    async def _store(self, survey: Survey, body: ResponseCreate, submitted_by_id: UUID | None) -> Response:
        answers, completed = check_answers(survey.questions, body)
        response = Response(
            survey_id=survey.id,
            submitted_by_id=submitted_by_id,
            completed=completed,
            respondent_name=body.respondent_name,
            respondent_email=body.respondent_email,
            answers=answers,
        )
        self.session.add(response)
        await self.session.flush()
        data = {"survey_id": survey.id, "response_id": response.id, "completed": completed}
        await enqueue(self.session, survey.workspace_id, WebhookEvent.RESPONSE_CREATED, data)
        return response


def check_answers(questions: list[Question], body: ResponseCreate) -> tuple[list[Answer], bool]:
    """The answer rows of a valid submission and whether it answers every question.

    Raises ValidationFailed listing every problem, each at its path (`answers[2].choice`); a required
    question left out is reported at `answers`.
    """
    by_id = {question.id: question for question in questions}
    errors: list[FieldError] = []
    rows: list[Answer] = []
    answered: set[UUID] = set()
    for index, answer in enumerate(body.answers):
        where = f"answers[{index}]"
        question = by_id.get(answer.question_id)
        if question is None:
            errors.append(
                FieldError(message="not a question of this survey", field=f"{where}.question_id", source=BODY)
            )
            continue
        if question.id in answered:
            errors.append(FieldError(message="answered twice", field=f"{where}.question_id", source=BODY))
            continue
        answered.add(question.id)
        values, problems = _answer(question, answer, where)
        rows += values
        errors += problems
    errors += [
        FieldError(
            message=f"question {question.position + 1} ({question.id}) needs an answer", field="answers", source=BODY
        )
        for question in questions
        if question.required and question.id not in answered
    ]
    if errors:
        raise ValidationFailed("Some answers do not fit the survey's questions.", errors=errors)
    return rows, len(answered) == len(questions)


def _answer(question: Question, answer: AnswerIn, where: str) -> tuple[list[Answer], list[FieldError]]:
    """The rows for one answer (one per chosen option), or what is wrong with it."""
    expected = _FIELD_FOR[question.kind]
    given = [name for name in VALUE_FIELDS if getattr(answer, name) is not None]
    if not given:
        message = f"give `{expected}` for a {question.kind.value} question"
        return [], [FieldError(message=message, field=where, source=BODY)]
    if wrong := [name for name in given if name != expected]:
        hint = "one `choice`, not several" if question.kind is QuestionKind.SINGLE_CHOICE else f"`{expected}`"
        message = f"a {question.kind.value} question takes {hint}"
        return [], [FieldError(message=message, field=f"{where}.{name}", source=BODY) for name in wrong]
    if problems := _value_problems(question, answer, f"{where}.{expected}"):
        return [], problems
    if answer.choices is not None:
        return [Answer(question_id=question.id, choice=choice) for choice in answer.choices], []
    return [Answer(question_id=question.id, choice=answer.choice, rating=answer.rating, text=answer.text)], []


def _value_problems(question: Question, answer: AnswerIn, field: str) -> list[FieldError]:
    """What is wrong with the value of an answer that has the right field for its question."""
    options = question.choices or []
    if answer.choice is not None and answer.choice not in options:
        return [FieldError(message=NOT_A_CHOICE, field=field, source=BODY)]
    if answer.choices is not None:
        return _chosen_problems(answer.choices, options, field)
    scale = question.scale or 0
    if answer.rating is not None and not 1 <= answer.rating <= scale:
        return [FieldError(message=f"must be between 1 and {scale}", field=field, source=BODY)]
    return []


def _chosen_problems(chosen: list[str], options: list[str], field: str) -> list[FieldError]:
    """A multiple-choice answer picks at least one option, each at most once."""
    if not chosen:
        return [FieldError(message="choose at least one option, or leave the question out", field=field, source=BODY)]
    problems: list[FieldError] = []
    for index, choice in enumerate(chosen):
        if choice not in options:
            problems.append(
                FieldError(message="not one of the question's choices", field=f"{field}[{index}]", source=BODY)
            )
        elif choice in chosen[:index]:
            problems.append(FieldError(message="chosen twice", field=f"{field}[{index}]", source=BODY))
    return problems


class AnswerValue(Protocol):
    """One stored value of an answer: an `Answer` row, or the same columns read without the ORM (an export)."""

    choice: str | None
    rating: int | None
    text: str | None


def response_view(survey: Survey, response: Response) -> ResponseView:
    """The member's view of a response: its answers regrouped per question, in the survey's order."""
    rows: defaultdict[UUID, list[AnswerValue]] = defaultdict(list)
    for row in response.answers:
        rows[row.question_id].append(row)
    return wire(ResponseView, response, answers=answers_in_order(survey.questions, rows))


def answers_in_order(questions: list[Question], rows: Mapping[UUID, list[AnswerValue]]) -> list[AnswerView]:
    """A response's answers, one per question it answers, in the survey's order, from its stored values."""
    return [_answer_view(question, rows[question.id]) for question in questions if question.id in rows]


def _answer_view(question: Question, rows: list[AnswerValue]) -> AnswerView:
    first = rows[0]
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        order = {choice: index for index, choice in enumerate(question.choices or [])}
        chosen = sorted((row.choice for row in rows if row.choice is not None), key=lambda c: order.get(c, len(order)))
        return AnswerView(question_id=question.id, choices=chosen)
    return AnswerView(question_id=question.id, choice=first.choice, rating=first.rating, text=first.text)
