"""`/api/surveys`: surveys, their lifecycle, responses (members) and metrics (aggregates only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tabular.db import Survey, SurveyStatus, Workspace
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.routes.paging import NEXT_LINK, Cursor, linked
from tabular.schemas.common import CursorPage, Page, Pagination
from tabular.schemas.metrics import SurveyMetrics
from tabular.schemas.responses import ResponseCreate, ResponseView
from tabular.schemas.surveys import SurveyCreate, SurveyUpdate, SurveyView
from tabular.services.metrics import MetricsService
from tabular.services.responses import ResponseService
from tabular.services.surveys import SurveyService, survey_view
from tabular.vocabulary import Action, Resource

NOT_DRAFT = "Questions change only in a draft (`survey_not_draft`)"
INVALID_TRANSITION = "Draft → published → closed only (`invalid_transition`)"
NOT_OPEN = "Only a published survey takes responses (`survey_not_open`)"


class SurveyController(Controller):
    """Members work on the surveys of their workspaces, admins on all of the organization's.

    Every handler receives the survey (or the workspace) the guard authorized and loaded. Paths answer
    with or without a trailing slash (Litestar matches both), as the CheckTick guide calls them.
    """

    path = "/api/surveys"
    tags = ["surveys"]  # noqa: RUF012
    dependencies = {  # noqa: RUF012
        "survey_service": service(SurveyService),
        "response_service": service(ResponseService),
        "metrics_service": service(MetricsService),
        "survey": authorized(Survey),
    }

    @get("", **requires(Resource.SURVEY, Action.LIST), summary="List surveys")
    async def list_surveys(
        self,
        survey_service: NamedDependency[SurveyService],
        pagination: NamedDependency[Pagination],
        in_workspace: NamedDependency[Workspace | None],
        status: FromQuery[SurveyStatus | None] = None,
    ) -> Page[SurveyView]:
        """Newest first: every survey you may see, or those of one workspace, optionally of one status."""
        return await survey_service.listing(pagination, in_workspace, status)

    @post("", **requires(Resource.SURVEY, Action.CREATE), status_code=HTTP_201_CREATED, summary="Create a survey")
    async def create_survey(
        self,
        data: JSONBody[SurveyCreate],
        workspace: NamedDependency[Workspace],
        survey_service: NamedDependency[SurveyService],
    ) -> SurveyView:
        """A draft in the workspace `?workspace_id=`; publish it to collect responses."""
        return await survey_service.create(workspace, data)

    @get("/{survey_id:uuid}", **requires(Resource.SURVEY, Action.READ, by="survey_id"), summary="Get a survey")
    async def get_survey(self, survey: NamedDependency[Survey]) -> SurveyView:
        """The survey with its questions in order."""
        return survey_view(survey)

    @patch(
        "/{survey_id:uuid}",
        **requires(Resource.SURVEY, Action.UPDATE, by="survey_id", problems={409: NOT_DRAFT}),
        summary="Update a survey",
    )
    async def update_survey(
        self,
        survey: NamedDependency[Survey],
        data: JSONBody[SurveyUpdate],
        survey_service: NamedDependency[SurveyService],
    ) -> SurveyView:
        """Change the fields sent; `questions` replaces them all, only while the survey is a draft (else 409)."""
        return await survey_service.update(survey, data)

    @delete(
        "/{survey_id:uuid}",
        **requires(Resource.SURVEY, Action.DELETE, by="survey_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a survey",
    )
    async def delete_survey(
        self, survey: NamedDependency[Survey], survey_service: NamedDependency[SurveyService]
    ) -> None:
        """The survey goes, with its questions and every response to it."""
        await survey_service.delete(survey)

    @post(
        "/{survey_id:uuid}/publish",
        **requires(Resource.SURVEY, Action.UPDATE, by="survey_id", problems={409: INVALID_TRANSITION}),
        status_code=HTTP_200_OK,
        summary="Publish a draft survey",
    )
    async def publish_survey(
        self, survey: NamedDependency[Survey], survey_service: NamedDependency[SurveyService]
    ) -> SurveyView:
        """Draft → published (409 `invalid_transition` otherwise); needs at least one question (422)."""
        return await survey_service.publish(survey)

    @post(
        "/{survey_id:uuid}/close",
        **requires(Resource.SURVEY, Action.UPDATE, by="survey_id", problems={409: INVALID_TRANSITION}),
        status_code=HTTP_200_OK,
        summary="Close a published survey",
    )
    async def close_survey(
        self, survey: NamedDependency[Survey], survey_service: NamedDependency[SurveyService]
    ) -> SurveyView:
        """Published → closed (409 `invalid_transition` otherwise): no more responses are accepted."""
        return await survey_service.close(survey)

    @get(
        "/{survey_id:uuid}/responses",
        **requires(Resource.RESPONSE, Action.LIST, by="survey_id"),
        response_headers=NEXT_LINK,
        summary="List a survey's responses (with personal data)",
    )
    async def list_responses(
        self,
        request: Request[Any, Any, Any],
        survey: NamedDependency[Survey],
        pagination: NamedDependency[Pagination],
        response_service: NamedDependency[ResponseService],
        cursor: Cursor = None,
    ) -> Response[CursorPage[ResponseView]]:
        """Newest first, with the respondent's name and email and every answer.

        Page by `offset`, or by `cursor` (the previous page's `next`, also in its `Link` header): a cursor
        neither repeats nor skips a response while new ones arrive.
        """
        return linked(request, await response_service.listing(survey, pagination, cursor))

    @post(
        "/{survey_id:uuid}/responses",
        **requires(Resource.RESPONSE, Action.CREATE, by="survey_id", problems={409: NOT_OPEN}),
        status_code=HTTP_201_CREATED,
        summary="Import a response",
    )
    async def import_response(
        self,
        survey: NamedDependency[Survey],
        data: JSONBody[ResponseCreate],
        response_service: NamedDependency[ResponseService],
    ) -> ResponseView:
        """A response collected elsewhere, into a published survey (409 `survey_not_open` otherwise)."""
        return await response_service.import_response(survey, data)

    @get(
        "/{survey_id:uuid}/metrics/responses",
        **requires(Resource.METRICS, Action.READ, by="survey_id"),
        summary="Aggregate response metrics (no personal data)",
    )
    async def get_response_metrics(
        self, survey: NamedDependency[Survey], metrics_service: NamedDependency[MetricsService]
    ) -> SurveyMetrics:
        """Totals, completion, per-day counts and per-question distributions; exact if you may read the responses."""
        return await metrics_service.of(survey)
