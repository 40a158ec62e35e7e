"""`/api/surveys`: surveys, their lifecycle, responses (members) and metrics (aggregates only)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from tabular.auth.principal import Principal
from tabular.db.surveys import SurveyStatus
from tabular.policies.declare import requires
from tabular.policies.vocabulary import Action, Resource
from tabular.schemas.common import Page, Pagination
from tabular.schemas.metrics import SurveyMetrics
from tabular.schemas.responses import ResponseCreate, ResponseView
from tabular.schemas.surveys import SurveyCreate, SurveyUpdate, SurveyView
from tabular.services.metrics import metrics_for
from tabular.services.responses import ResponseService
from tabular.services.surveys import SurveyService


def provide_survey_service(
    db_session: NamedDependency[AsyncSession], principal: NamedDependency[Principal]
) -> SurveyService:
    """One service per request, on the request's transaction, for the caller's organization."""
    return SurveyService(db_session, principal)


def provide_response_service(db_session: NamedDependency[AsyncSession]) -> ResponseService:
    """One service per request, on the request's transaction."""
    return ResponseService(db_session)


class SurveyController(Controller):
    """Members work on the surveys of their workspaces, admins on all of the organization's.

    Paths answer with or without a trailing slash (Litestar matches both), as the CheckTick guide calls them.
    """

    path = "/api/surveys"
    tags = ["surveys"]  # noqa: RUF012
    dependencies = {  # noqa: RUF012
        "survey_service": Provide(provide_survey_service, sync_to_thread=False),
        "response_service": Provide(provide_response_service, sync_to_thread=False),
    }

    @get("", **requires(Resource.SURVEY, Action.LIST), summary="List surveys")
    async def list_surveys(
        self,
        survey_service: NamedDependency[SurveyService],
        pagination: NamedDependency[Pagination],
        workspace_id: FromQuery[UUID | None] = None,
        status: FromQuery[SurveyStatus | None] = None,
    ) -> Page[SurveyView]:
        """Newest first: every survey you may see, or those of one workspace, optionally of one status."""
        return await survey_service.list(pagination, workspace_id, status)

    @post("", **requires(Resource.SURVEY, Action.CREATE), status_code=HTTP_201_CREATED, summary="Create a survey")
    async def create_survey(
        self,
        data: JSONBody[SurveyCreate],
        workspace_id: FromQuery[UUID],
        survey_service: NamedDependency[SurveyService],
    ) -> SurveyView:
        """A draft in the workspace `?workspace_id=`; publish it to collect responses."""
        return await survey_service.create(workspace_id, data)

    @get("/{survey_id:uuid}", **requires(Resource.SURVEY, Action.READ, by="survey_id"), summary="Get a survey")
    async def get_survey(self, survey_id: FromPath[UUID], survey_service: NamedDependency[SurveyService]) -> SurveyView:
        """The survey with its questions in order."""
        return await survey_service.get(survey_id)

    @patch("/{survey_id:uuid}", **requires(Resource.SURVEY, Action.UPDATE, by="survey_id"), summary="Update a survey")
    async def update_survey(
        self, survey_id: FromPath[UUID], data: JSONBody[SurveyUpdate], survey_service: NamedDependency[SurveyService]
    ) -> SurveyView:
        """Change the fields sent; `questions` replaces them all, only while the survey is a draft (else 409)."""
        return await survey_service.update(survey_id, data)

    @delete(
        "/{survey_id:uuid}",
        **requires(Resource.SURVEY, Action.DELETE, by="survey_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a survey",
    )
    async def delete_survey(self, survey_id: FromPath[UUID], survey_service: NamedDependency[SurveyService]) -> None:
        """The survey goes, with its questions and every response to it."""
        await survey_service.delete(survey_id)

    @post(
        "/{survey_id:uuid}/publish",
        **requires(Resource.SURVEY, Action.UPDATE, by="survey_id"),
        status_code=HTTP_200_OK,
        summary="Publish a draft survey",
    )
    async def publish_survey(
        self, survey_id: FromPath[UUID], survey_service: NamedDependency[SurveyService]
    ) -> SurveyView:
        """Draft → published (409 `invalid_transition` otherwise); needs at least one question (422)."""
        return await survey_service.publish(survey_id)

    @post(
        "/{survey_id:uuid}/close",
        **requires(Resource.SURVEY, Action.UPDATE, by="survey_id"),
        status_code=HTTP_200_OK,
        summary="Close a published survey",
    )
    async def close_survey(
        self, survey_id: FromPath[UUID], survey_service: NamedDependency[SurveyService]
    ) -> SurveyView:
        """Published → closed (409 `invalid_transition` otherwise): no more responses are accepted."""
        return await survey_service.close(survey_id)

    @get(
        "/{survey_id:uuid}/responses",
        **requires(Resource.RESPONSE, Action.LIST, by="survey_id", via=Resource.SURVEY),
        summary="List a survey's responses (with personal data)",
    )
    async def list_responses(
        self,
        survey_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        pagination: NamedDependency[Pagination],
        response_service: NamedDependency[ResponseService],
    ) -> Page[ResponseView]:
        """Newest first, with the respondent's name and email and every answer."""
        return await response_service.list(principal.organization_id, survey_id, pagination)

    @post(
        "/{survey_id:uuid}/responses",
        **requires(Resource.RESPONSE, Action.CREATE, by="survey_id", via=Resource.SURVEY),
        status_code=HTTP_201_CREATED,
        summary="Import a response",
    )
    async def import_response(
        self,
        survey_id: FromPath[UUID],
        data: JSONBody[ResponseCreate],
        principal: NamedDependency[Principal],
        response_service: NamedDependency[ResponseService],
    ) -> ResponseView:
        """A response collected elsewhere, into a published survey (409 `survey_not_open` otherwise)."""
        return await response_service.import_response(principal, survey_id, data)

    @get(
        "/{survey_id:uuid}/metrics/responses",
        **requires(Resource.METRICS, Action.READ, by="survey_id", via=Resource.SURVEY),
        summary="Aggregate response metrics (no personal data)",
    )
    async def response_metrics(
        self,
        survey_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
    ) -> SurveyMetrics:
        """Totals, completion, per-day counts and per-question distributions; counts of 1-4 read "<5"."""
        return await metrics_for(db_session, principal.organization_id, survey_id)
