"""Surveys: list, create, read, update, delete, and the draft → published → closed lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import msgspec
from sqlalchemy import select

from tabular.db import Question, QuestionKind, Survey, SurveyStatus, WebhookEvent, Workspace
from tabular.db.base import utcnow
from tabular.errors import Conflict, FieldError, ValidationFailed
from tabular.policies.filters import visible
from tabular.schemas.common import wire
from tabular.schemas.surveys import (
    MultipleChoiceQuestion,
    QuestionIn,
    QuestionView,
    RatingQuestion,
    SingleChoiceQuestion,
    SurveyCreate,
    SurveyUpdate,
    SurveyView,
    TextQuestion,
)
from tabular.services.actor import Service
from tabular.services.common import in_organization, page
from tabular.vocabulary import Resource
from tabular.webhooks.events import enqueue

if TYPE_CHECKING:
    from tabular.schemas.common import Page, Pagination

_NEXT: Final = {SurveyStatus.DRAFT: SurveyStatus.PUBLISHED, SurveyStatus.PUBLISHED: SurveyStatus.CLOSED}
"""The only transitions: a survey never goes back, so a draft never has responses."""

_KINDS: Final[dict[type[QuestionIn], QuestionKind]] = {
    SingleChoiceQuestion: QuestionKind.SINGLE_CHOICE,
    MultipleChoiceQuestion: QuestionKind.MULTIPLE_CHOICE,
    RatingQuestion: QuestionKind.RATING,
    TextQuestion: QuestionKind.TEXT,
}


class SurveyService(Service):
    """Acts on the surveys the guard authorized and loaded; lists through `visible()`."""

    async def listing(
        self, pagination: Pagination, workspace: Workspace | None = None, status: SurveyStatus | None = None
    ) -> Page[SurveyView]:
        """The surveys the caller may see, newest first (questions in one more query)."""
        query = select(Survey).where(visible(self.actor.caller, Resource.SURVEY))
        if workspace is not None:
            query = query.where(Survey.workspace_id == workspace.id)
        if status is not None:
            query = query.where(Survey.status == status)
        ordered = query.order_by(Survey.created_at.desc(), Survey.id.desc())
        return await page(self.session, ordered, pagination, lambda row: survey_view(row[0]))

    async def create(self, workspace: Workspace, body: SurveyCreate) -> SurveyView:
        """A draft in the workspace (the guard's, checked against the caller's organization again), by the caller."""
        caller = self.actor.caller
        in_organization(workspace, caller)
        check_choices(body.questions)
        survey = Survey(
            workspace_id=workspace.id,
            created_by_id=caller.user_id,
            title=body.title,
            description=body.description,
            status=SurveyStatus.DRAFT,
            questions=_questions(body.questions),
        )
        self.session.add(survey)
        await self.session.flush()
        return survey_view(survey)

    async def update(self, survey: Survey, body: SurveyUpdate) -> SurveyView:
        """Change the fields sent; questions only while the survey is a draft (answers refer to them)."""
        title = None if body.title is msgspec.UNSET else body.title
        description = None if body.description is msgspec.UNSET else body.description
        questions = None if body.questions is msgspec.UNSET else body.questions
        if questions is not None and survey.status is not SurveyStatus.DRAFT:
            raise Conflict(
                f"The questions of a {survey.status.value} survey cannot change; only a draft's can.",
                code="survey_not_draft",
            )
        check_choices(questions or [])
        if title is not None:
            survey.title = title
        if description is not None:
            survey.description = description
        if questions is not None:
            # Delete first: the unit of work would insert the new rows before deleting the old ones,
            # and (survey_id, position) is unique.
            survey.questions.clear()
            await self.session.flush()
            survey.questions.extend(_questions(questions))
            survey.updated_at = utcnow()  # a collection change alone does not touch the row
        await self.session.flush()
        return survey_view(survey)

    async def delete(self, survey: Survey) -> None:
        """Remove the survey, its questions and every response to it."""
        await self.session.delete(survey)
        await self.session.flush()

    async def publish(self, survey: Survey) -> SurveyView:
        """Draft → published: from now on it takes responses; needs at least one question."""
        _check_transition(survey, SurveyStatus.PUBLISHED)
        if not survey.questions:
            raise ValidationFailed(
                "A survey needs at least one question before it is published.",
                code="survey_has_no_questions",
                errors=[FieldError(message="needs at least one question", field="questions")],
            )
        return await self._move(survey, SurveyStatus.PUBLISHED)

    async def close(self, survey: Survey) -> SurveyView:
        """Published → closed: it takes no more responses; metrics and responses stay readable."""
        _check_transition(survey, SurveyStatus.CLOSED)
        return await self._move(survey, SurveyStatus.CLOSED)

    async def _move(self, survey: Survey, status: SurveyStatus) -> SurveyView:
        survey.status = status
        await self.session.flush()
        event = WebhookEvent.SURVEY_PUBLISHED if status is SurveyStatus.PUBLISHED else WebhookEvent.SURVEY_CLOSED
        data = {"survey_id": survey.id, "title": survey.title, "status": status.value}
        await enqueue(self.session, survey.workspace_id, event, data)
        return survey_view(survey)


def _check_transition(survey: Survey, target: SurveyStatus) -> None:
    if _NEXT.get(survey.status) is not target:
        raise Conflict(
            f"A {survey.status.value} survey cannot become {target.value}: draft → published → closed only.",
            code="invalid_transition",
        )


def check_choices(questions: list[QuestionIn]) -> None:
    """What the schema cannot say: a question's choices are unique. Every repeat at once, with its path."""
    errors: list[FieldError] = []
    for index, question in enumerate(questions):
        if isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
            seen: set[str] = set()
            for position, choice in enumerate(question.choices):
                if choice in seen:
                    field = f"questions[{index}].choices[{position}]"
                    errors.append(FieldError(message=f"{choice!r} is already a choice", field=field, source="body"))
                seen.add(choice)
    if errors:
        raise ValidationFailed("The survey has invalid fields.", errors=errors)


def _questions(questions: list[QuestionIn]) -> list[Question]:
    return [
        Question(
            position=position,
            kind=_KINDS[type(question)],
            text=question.text,
            required=question.required,
            choices=list(question.choices)
            if isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion)
            else None,
            scale=question.scale if isinstance(question, RatingQuestion) else None,
        )
        for position, question in enumerate(questions)
    ]


def survey_view(survey: Survey) -> SurveyView:
    """The wire form of a survey, its questions in order."""
    return wire(SurveyView, survey, questions=[wire(QuestionView, question) for question in survey.questions])
