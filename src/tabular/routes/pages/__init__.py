"""The account pages for people: sign in, security (MFA, password), API keys, the organization's keys.

Server-rendered (Jinja, `templates/`), with one stylesheet and one small script served from `static/`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

from tabular.policies.requirements import public
from tabular.routes.pages.keys import ApiKeyPages, OrganizationKeyPages
from tabular.routes.pages.rendering import STATIC
from tabular.routes.pages.security import SecurityPages
from tabular.routes.pages.sign_in import SignInPages

if TYPE_CHECKING:
    from litestar import Router
    from litestar.types import ControllerRouterHandler

__all__ = ["PAGE_HANDLERS"]


def static_router() -> Router:
    """The pages' stylesheet and script (an hour's cache: they are small and change with the app)."""
    return create_static_files_router(
        path="/static",
        directories=[STATIC],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
        opt=public(),
    )


PAGE_HANDLERS: list[ControllerRouterHandler] = [
    SignInPages,
    SecurityPages,
    ApiKeyPages,
    OrganizationKeyPages,
    static_router(),
]
