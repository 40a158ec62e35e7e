"""Attack: read the API's answers from another site's page, through CORS.

Only the origins in `TABULAR_CORS_ORIGINS` may read answers (with credentials); every other origin, including
ones that merely look like a listed one, gets no `Access-Control-Allow-Origin` on the preflight or on the
request itself, so the browser keeps the answer from the page. With CORS off (the default) nobody gets it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.clients import app_client, key

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

LISTED = "https://app.example.com"
UNLISTED = [
    "https://evil.example",
    "https://app.example.com.evil.example",
    "https://evil-app.example.com",
    "https://appXexample.com",
    "http://app.example.com",
    "https://app.example.com:8443",
    "https://app.example.co",
    "null",
]
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, x-csrf-token"}


async def _allowed_origin(client: Client, origin: str, demo: DemoData) -> tuple[str | None, str | None]:
    """The `Access-Control-Allow-Origin` of a preflight and of a credentialed request from `origin`."""
    preflight = await client.options("/api/keys", headers=PREFLIGHT | {"Origin": origin})
    assert preflight.status_code < 500, preflight.text
    simple = await client.get("/api/keys", headers=key(demo, "admin") | {"Origin": origin})
    assert simple.status_code == 200, simple.text
    return preflight.headers.get("access-control-allow-origin"), simple.headers.get("access-control-allow-origin")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no database is involved in the answer
async def test_an_unlisted_origin_gets_no_access_control_allow_origin(database_url: str, demo: DemoData) -> None:
    async with app_client(database_url, cors_origins=(LISTED,)) as client:
        assert await _allowed_origin(client, LISTED, demo) == (LISTED, LISTED), "the control: a listed origin"
        for origin in UNLISTED:
            assert await _allowed_origin(client, origin, demo) == (None, None), origin


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_with_cors_off_no_origin_gets_access_control_allow_origin(client: Client, demo: DemoData) -> None:
    for origin in [LISTED, *UNLISTED]:
        assert await _allowed_origin(client, origin, demo) == (None, None), origin
