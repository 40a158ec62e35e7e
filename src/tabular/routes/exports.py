"""`/api/surveys/{id}/responses/export`: every response of a survey in one streamed file, for ETL jobs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Stream

from tabular.db import Survey
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.schemas.responses import ExportFormat
from tabular.services.exports import MEDIA_TYPES, ExportService
from tabular.vocabulary import Action, Resource


def _streamed(declaration: dict[str, Any], media_types: list[str]) -> dict[str, Any]:
    """The declaration, its 200 documented as a file in any of `media_types` (Litestar names one at most)."""
    operation = declaration["operation_class"]

    class StreamedOperation(operation):  # type: ignore[misc, valid-type] # a class the declaration made
        def to_schema(self) -> dict[str, Any]:
            schema: dict[str, Any] = super().to_schema()
            ok = schema["responses"]["200"]
            ok["content"] = {media_type: {"schema": {"type": "string"}} for media_type in media_types}
            ok["headers"] = ok.get("headers", {}) | {
                "Content-Disposition": {
                    "schema": {"type": "string"},
                    "description": '`attachment; filename="responses-<survey id>.csv"` (or `.ndjson`)',
                }
            }
            return schema

    return declaration | {"operation_class": StreamedOperation}


class ResponseExportController(Controller):
    """The same permission as listing a survey's responses (members and admins), in one request."""

    path = "/api/surveys"
    tags = ["surveys"]  # noqa: RUF012
    dependencies = {"export_service": service(ExportService), "survey": authorized(Survey)}  # noqa: RUF012

    @get(
        "/{survey_id:uuid}/responses/export",
        **_streamed(requires(Resource.RESPONSE, Action.LIST, by="survey_id"), list(MEDIA_TYPES.values())),
        response_description="The responses, oldest first, as a file (`Content-Disposition: attachment`)",
        summary="Export a survey's responses (with personal data)",
    )
    async def export_responses(
        self,
        survey: NamedDependency[Survey],
        export_service: NamedDependency[ExportService],
        format: Annotated[  # noqa: A002 - the parameter's name on the wire, as a 422 names it
            ExportFormat, QueryParameter(description="`csv` (the default) or `ndjson`")
        ] = ExportFormat.CSV,
        since: Annotated[
            dt.datetime | None, QueryParameter(description="Only responses made at or after (ISO 8601, with zone)")
        ] = None,
    ) -> Stream:
        """Every response, oldest first, streamed: as CSV (a column per question) or NDJSON (a response a line).

        In the CSV, the choices of a multiple-choice answer share one cell (`Cat; Fish`, in the question's
        order), and a value a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or
        a carriage return) starts with `'`. `since` resumes an earlier export: pass the last `created_at` seen.
        """
        extension = format.value
        return Stream(
            export_service.export(survey, format, since),
            media_type=MEDIA_TYPES[format],
            headers={"Content-Disposition": f'attachment; filename="responses-{survey.id}.{extension}"'},
        )
