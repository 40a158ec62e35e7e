"""The API's documentation pages, served by the app itself: ReDoc and Swagger UI at pinned versions, offline.

Their scripts and styles are files of this package (`docs_assets/`, with their licences), so the pages
work on a network that reaches nothing but this server; nothing is fetched from a CDN or a font host.
The landing page (`GET /`, `routes/pages/`) links them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

from tabular.policies.requirements import public

if TYPE_CHECKING:
    from litestar import Request, Router

ASSETS: Final = Path(__file__).resolve().parent.parent / "docs_assets"
ASSETS_PATH: Final = "/schema/assets"
REDOC: Final = f"{ASSETS_PATH}/redoc-2.5.0"
SWAGGER_UI: Final = f"{ASSETS_PATH}/swagger-ui-5.18.2"
"""Each bundle's directory names its version, so a cached copy is never an older version's."""
SCHEMA_URL: Final = "/schema/openapi.json"

_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>{head}</head>
<body>{body}</body>
</html>
"""


class RedocPage(OpenAPIRenderPlugin):
    """ReDoc, from this server."""

    def __init__(self) -> None:
        super().__init__(path="/redoc")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:  # noqa: ARG002
        """The page: the bundled script, and the schema's URL on this server."""
        body = f'<redoc spec-url="{SCHEMA_URL}"></redoc><script src="{REDOC}/redoc.standalone.js"></script>'
        return _PAGE.format(title="Tabular API (ReDoc)", head="", body=body).encode()


class SwaggerPage(OpenAPIRenderPlugin):
    """Swagger UI, from this server; no validator badge (it would call validator.swagger.io)."""

    def __init__(self) -> None:
        super().__init__(path="/swagger")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:  # noqa: ARG002
        """The page: the bundled script and stylesheet, set up for this server's schema."""
        options = json.dumps({"url": SCHEMA_URL, "dom_id": "#swagger-ui", "validatorUrl": None, "deepLinking": True})
        head = f'<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">'
        body = (
            '<div id="swagger-ui"></div>'
            f'<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>'
            f"<script>window.ui = SwaggerUIBundle({options});</script>"
        )
        return _PAGE.format(title="Tabular API (Swagger UI)", head=head, body=body).encode()


def assets_router() -> Router:
    """The pages' scripts, styles and licences, cached for a day (their names change with their versions)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=86400, public=True),
        opt=public(),
    )
