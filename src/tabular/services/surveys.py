"""Surveys: list, create, read, update, delete, and the draft → published → closed lifecycle."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Final

import msgspec
from sqlalchemy import func, select

from tabular.db import Question, QuestionKind, Survey, SurveyStatus, Workspace
from tabular.db.base import utcnow
from tabular.errors import Conflict, FieldError, ValidationFailed
from tabular.policies.filters import visible
from tabular.schemas.common import Page, Pagination
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
from tabular.services.common import in_organization
from tabular.vocabulary import Resource

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import Principal

BODY: Final = "body"
_LINE_BREAKS: Final = frozenset("\n\r\t")

_NEXT: Final = {SurveyStatus.DRAFT: SurveyStatus.PUBLISHED, SurveyStatus.PUBLISHED: SurveyStatus.CLOSED}
"""The only transitions: a survey never goes back, so a draft never has responses."""

_KINDS: Final[dict[type[QuestionIn], QuestionKind]] = {
    SingleChoiceQuestion: QuestionKind.SINGLE_CHOICE,
    MultipleChoiceQuestion: QuestionKind.MULTIPLE_CHOICE,
    RatingQuestion: QuestionKind.RATING,
    TextQuestion: QuestionKind.TEXT,
}


class SurveyService:
    """Acts on the surveys the guard authorized and loaded; lists through `visible()`."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    async def list(
        self, pagination: Pagination, workspace: Workspace | None = None, status: SurveyStatus | None = None
    ) -> Page[SurveyView]:
        """The surveys the caller may see, newest first: one count, one page (questions in one more query)."""
        conditions = [visible(self.principal, Resource.SURVEY)]
        if workspace is not None:
            conditions.append(Survey.workspace_id == workspace.id)
        if status is not None:
            conditions.append(Survey.status == status)
        total = await self.session.scalar(select(func.count(Survey.id)).where(*conditions)) or 0
        surveys = await self.session.scalars(
            select(Survey)
            .where(*conditions)
            .order_by(Survey.created_at.desc(), Survey.id.desc())
            .limit(pagination.limit)
            .offset(pagination.offset)
        )
        items = [survey_view(survey) for survey in surveys]
        return Page(items=items, total=total, limit=pagination.limit, offset=pagination.offset)

    async def create(self, workspace: Workspace, body: SurveyCreate) -> SurveyView:
        """A draft in the workspace (the guard's, checked against the caller's organization again), by the caller."""
        in_organization(workspace, self.principal)
        check_survey(body.title, body.description, body.questions)
        survey = Survey(
            workspace_id=workspace.id,
            created_by_id=self.principal.user_id,
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
        check_survey(title, description, questions or [])
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
        return survey_view(survey)


def _check_transition(survey: Survey, target: SurveyStatus) -> None:
    if _NEXT.get(survey.status) is not target:
        raise Conflict(
            f"A {survey.status.value} survey cannot become {target.value}: draft → published → closed only.",
            code="invalid_transition",
        )


def check_survey(title: str | None, description: str | None, questions: list[QuestionIn]) -> None:
    """What the schema cannot say: printable text, unique choices. All problems at once, with their paths."""
    errors: list[FieldError] = []
    if title is not None:
        errors += text_errors(title, "title", multiline=False)
    if description is not None:
        errors += text_errors(description, "description", multiline=True, allow_blank=True)
    for index, question in enumerate(questions):
        where = f"questions[{index}]"
        errors += text_errors(question.text, f"{where}.text", multiline=True)
        if isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
            seen: set[str] = set()
            for position, choice in enumerate(question.choices):
                field = f"{where}.choices[{position}]"
                errors += text_errors(choice, field, multiline=False)
                if choice in seen:
                    errors.append(FieldError(message=f"{choice!r} is already a choice", field=field, source=BODY))
                seen.add(choice)
    if errors:
        raise ValidationFailed("The survey has invalid fields.", errors=errors)


def text_errors(value: str, field: str, *, multiline: bool, allow_blank: bool = False) -> list[FieldError]:
    """Refuse blank text and control characters (PostgreSQL stores no NUL); line breaks only where allowed."""
    if not allow_blank and not value.strip():
        return [FieldError(message="must not be blank", field=field, source=BODY)]
    allowed = _LINE_BREAKS if multiline else frozenset()
    if any(unicodedata.category(char) == "Cc" and char not in allowed for char in value):
        what = "control characters other than line breaks and tabs" if multiline else "control characters"
        return [FieldError(message=f"must not contain {what}", field=field, source=BODY)]
    return []


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
    """The wire form of a survey."""
    return SurveyView(
        id=survey.id,
        workspace_id=survey.workspace_id,
        title=survey.title,
        description=survey.description,
        status=survey.status,
        created_by_id=survey.created_by_id,
        created_at=survey.created_at,
        updated_at=survey.updated_at,
        questions=[
            QuestionView(
                id=question.id,
                position=question.position,
                kind=question.kind,
                text=question.text,
                required=question.required,
                choices=question.choices,
                scale=question.scale,
            )
            for question in survey.questions
        ],
    )
