"""`/api/public`: What respondents reach without credentials."""

from __future__ import annotations

from litestar import Controller


class PublicSurveyController(Controller):
    """What respondents reach without credentials."""

    path = "/api/public"
