"""`/api/public`: what respondents reach without credentials (rate-limited per client IP like any anonymous call)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_404_NOT_FOUND, HTTP_409_CONFLICT

from tabular.policies.requirements import public
from tabular.routes.dependencies import service
from tabular.schemas.responses import ResponseCreate, ResponseCreated
from tabular.schemas.surveys import PublicSurveyView
from tabular.services.responses import ResponseService
from tabular.settings import SMALL_BODY

NOT_PUBLISHED = "No such survey, or not published yet"
CLOSED = "The survey is closed (`survey_closed`)"


class PublicSurveyController(Controller):
    """Respondents read and answer published surveys; nothing here reads anyone's data back."""

    path = "/api/public"
    request_max_body_size = SMALL_BODY  # anyone may send one: small
    tags = ["public"]  # noqa: RUF012
    dependencies = {"response_service": service(ResponseService)}  # noqa: RUF012

    @get(
        "/surveys/{survey_id:uuid}",
        **public(problems={HTTP_404_NOT_FOUND: NOT_PUBLISHED, HTTP_409_CONFLICT: CLOSED}),
        summary="Read a published survey's questions",
    )
    async def get_public_survey(
        self, survey_id: FromPath[UUID], response_service: NamedDependency[ResponseService]
    ) -> PublicSurveyView:
        """Title, description and questions (with the ids to answer them by), nothing about who made it or where.

        Found as the submission finds it: a draft or unknown survey is 404, a closed one 409 `survey_closed`.
        """
        return await response_service.form(survey_id)

    @post(
        "/surveys/{survey_id:uuid}/responses",
        **public(problems={HTTP_404_NOT_FOUND: NOT_PUBLISHED, HTTP_409_CONFLICT: CLOSED}),
        status_code=HTTP_201_CREATED,
        summary="Answer a published survey",
    )
    async def submit_response(
        self,
        survey_id: FromPath[UUID],
        data: JSONBody[ResponseCreate],
        response_service: NamedDependency[ResponseService],
    ) -> ResponseCreated:
        """201 with the response id only: nothing the respondent sent is echoed back.

        A draft or unknown survey is 404, a closed one 409 `survey_closed`; answers that do not fit the
        questions are 422 with each offending field (`answers[2].choice`).
        """
        return await response_service.submit(survey_id, data)
