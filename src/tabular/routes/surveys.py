"""`/api/surveys`: Surveys, their lifecycle, responses and metrics."""

from __future__ import annotations

from litestar import Controller


class SurveyController(Controller):
    """Surveys, their lifecycle, responses and metrics."""

    path = "/api/surveys"
