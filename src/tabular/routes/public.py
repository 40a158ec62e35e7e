"""`/api/public`: what respondents reach without credentials (rate-limited per client IP like any anonymous call)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_404_NOT_FOUND, HTTP_409_CONFLICT

from tabular.policies.requirements import public
from tabular.routes.dependencies import service
from tabular.schemas.responses import ResponseCreate, ResponseCreated
from tabular.services.responses import ResponseService
from tabular.settings import SMALL_BODY


class PublicSurveyController(Controller):
    """Respondents answer published surveys; nothing here reads data back."""

    path = "/api/public"
    request_max_body_size = SMALL_BODY  # anyone may send one: small
    tags = ["public"]  # noqa: RUF012
    dependencies = {"response_service": service(ResponseService)}  # noqa: RUF012

    @post(
        "/surveys/{survey_id:uuid}/responses",
        **public(
            problems={
                HTTP_404_NOT_FOUND: "No such survey, or not published yet",
                HTTP_409_CONFLICT: "The survey is closed (`survey_closed`)",
            }
        ),
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
