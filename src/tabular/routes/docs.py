"""The API's documentation pages, served by the app itself: ReDoc and Swagger UI at pinned versions, offline.

Their scripts and styles are files of this package (`docs_assets/`, with their licences), so the pages
work on a network that reaches nothing but this server; nothing is fetched from a CDN or a font host. One
patch makes that so: ReDoc's sidebar loads its logo from cdn.redoc.ly, and the bundle here has that URL
replaced by an empty image. Each page carries a Content-Security-Policy (in a `<meta>`: the pages are the
render plugin's bytes) that lets it load from this server alone, run only its bundle (Swagger UI's one
inline line by its hash) and inject the styles both draw with.
The bundles are stored gzip-compressed (2.5 MB of minified code as 0.7 MB) and sent as stored.
The landing page (`GET /`, `routes/pages/`) links them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import mimetypes
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import anyio.to_thread
from litestar import HttpMethod, MediaType, Response, route
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.response import File

from tabular.policies.requirements import public

if TYPE_CHECKING:
    from litestar import Request

ASSETS: Final = Path(__file__).resolve().parent.parent / "docs_assets"
ASSETS_PATH: Final = "/schema/assets"
REDOC: Final = f"{ASSETS_PATH}/redoc-2.5.0"
SWAGGER_UI: Final = f"{ASSETS_PATH}/swagger-ui-5.18.2"
"""Each bundle's directory names its version, so a cached copy is never an older version's."""
SCHEMA_URL: Final = "/schema/openapi.json"

_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/static/favicon.svg"><title>{title}</title>{head}</head>
<body>{body}</body>
</html>
"""


def _policy(*scripts: str) -> str:
    """The page's policy: this server only; `scripts` are inline ones allowed by their SHA-256."""
    hashes = "".join(f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    return (
        f"default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; worker-src 'self' blob:; font-src 'self' data:; base-uri 'none'; form-action 'none'"
    )


class RedocPage(OpenAPIRenderPlugin):
    """ReDoc, from this server."""

    def __init__(self) -> None:
        super().__init__(path="/redoc")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:  # noqa: ARG002
        """The page: the bundled script, and the schema's URL on this server."""
        body = f'<redoc spec-url="{SCHEMA_URL}"></redoc><script src="{REDOC}/redoc.standalone.js"></script>'
        return _PAGE.format(policy=_policy(), title="Tabular API (ReDoc)", head="", body=body).encode()


class SwaggerPage(OpenAPIRenderPlugin):
    """Swagger UI, from this server; no validator badge (it would call validator.swagger.io)."""

    def __init__(self) -> None:
        super().__init__(path="/swagger")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:  # noqa: ARG002
        """The page: the bundled script and stylesheet, set up for this server's schema."""
        options = json.dumps({"url": SCHEMA_URL, "dom_id": "#swagger-ui", "validatorUrl": None, "deepLinking": True})
        head = f'<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">'
        start = f"window.ui = SwaggerUIBundle({options});"
        body = (
            '<div id="swagger-ui"></div>'
            f'<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>'
            f"<script>{start}</script>"
        )
        return _PAGE.format(policy=_policy(start), title="Tabular API (Swagger UI)", head=head, body=body).encode()


def _served_files(root: Path) -> dict[str, Path]:
    """Each file under `root` by the path it is served at: a bundle stored as `x.js.gz` is served as `x.js`.

    Only these paths are ever opened, so no request path reaches outside the folder.
    """
    return {file.relative_to(root).as_posix().removesuffix(".gz"): file for file in root.rglob("*") if file.is_file()}


SERVED: Final = _served_files(ASSETS)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether a request's `Accept-Encoding` admits gzip (RFC 9110 §12.5.3: no header admits any coding)."""
    if accept_encoding is None:
        return True
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        q = next((p.partition("=")[2] for p in parameters if p.lower().replace(" ", "").startswith("q=")), "1")
        try:
            weights[coding.lower()] = float(q)
        except ValueError:
            weights[coding.lower()] = 0.0
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


@cache
def _unpacked(file: Path) -> bytes:
    return gzip.decompress(file.read_bytes())


@route(
    f"{ASSETS_PATH}/{{file_path:path}}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    **public(),
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=86400, public=True),
)
async def asset(request: Request[Any, Any, Any], file_path: FromPath[str]) -> File | Response[bytes]:
    """The pages' scripts, styles and licences, cached for a day (their names change with their versions).

    A compressed bundle goes as stored, with `Content-Encoding: gzip`, to every client that accepts it (every
    browser does); one that refuses gzip gets it unpacked.
    """
    file = SERVED.get(file_path.lstrip("/"))
    if file is None:
        raise NotFoundException
    media_type = mimetypes.guess_type(file_path)[0] or MediaType.TEXT  # LICENSE, NOTICE: plain text
    as_stored = partial(
        File, file, media_type=media_type, content_disposition_type="inline", filename=Path(file_path).name
    )
    if file.suffix != ".gz":
        return as_stored()
    vary = {"Vary": "Accept-Encoding"}
    if accepts_gzip(request.headers.get("accept-encoding")):
        return as_stored(headers={**vary, "Content-Encoding": "gzip"})
    return Response(await anyio.to_thread.run_sync(_unpacked, file), media_type=media_type, headers=vary)
