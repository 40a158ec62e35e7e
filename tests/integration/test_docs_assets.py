"""The documentation bundles are stored gzip-compressed and sent so; nothing else under the folder is reachable."""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING

import pytest

from tabular.routes.docs import ASSETS, REDOC, SWAGGER_UI, accepts_gzip

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

BUNDLES = [
    (f"{REDOC}/redoc.standalone.js", "redoc-2.5.0/redoc.standalone.js.gz", "text/javascript"),
    (f"{SWAGGER_UI}/swagger-ui-bundle.js", "swagger-ui-5.18.2/swagger-ui-bundle.js.gz", "text/javascript"),
    (f"{SWAGGER_UI}/swagger-ui.css", "swagger-ui-5.18.2/swagger-ui.css.gz", "text/css"),
]


@pytest.mark.parametrize(("url", "stored", "media_type"), BUNDLES)
async def test_a_bundle_goes_compressed_as_stored_to_a_client_that_accepts_gzip(
    client: AsyncTestClient[Litestar], url: str, stored: str, media_type: str
) -> None:
    packed = (ASSETS / stored).read_bytes()
    response = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-length"] == str(len(packed)), "the stored bytes, not compressed again"
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == "max-age=86400, public"
    assert response.content == gzip.decompress(packed)  # the client unpacked it


@pytest.mark.parametrize(("url", "stored", "media_type"), BUNDLES)
async def test_a_client_that_refuses_gzip_gets_the_bundle_unpacked(
    client: AsyncTestClient[Litestar], url: str, stored: str, media_type: str
) -> None:
    response = await client.get(url, headers={"Accept-Encoding": "identity, gzip;q=0"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.content == gzip.decompress((ASSETS / stored).read_bytes())


async def test_the_licences_stand_beside_the_bundles_uncompressed(client: AsyncTestClient[Litestar]) -> None:
    for url in (f"{REDOC}/LICENSE", f"{REDOC}/redoc.standalone.js.LICENSE.txt", f"{SWAGGER_UI}/NOTICE"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert "content-encoding" not in response.headers
        assert response.headers["content-type"].startswith("text/plain"), url
        assert response.text.strip()


@pytest.mark.parametrize(
    "url",
    [
        f"{REDOC}/redoc.standalone.js.gz",  # stored under that name, served only without the suffix
        f"{REDOC}/missing.js",
        "/schema/assets/../routes/docs.py",
        "/schema/assets/%2E%2E/routes/docs.py",
        "/schema/assets/redoc-2.5.0",
    ],
)
async def test_nothing_but_the_served_files_is_reachable(client: AsyncTestClient[Litestar], url: str) -> None:
    response = await client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (None, True),  # RFC 9110 §12.5.3: no header admits any coding
        ("gzip, deflate, br", True),
        ("br;q=1.0, GZIP;q=0.5", True),
        ("*", True),
        ("identity", False),
        ("gzip;q=0", False),
        ("gzip; q=0.000, identity", False),
        ("*;q=0, gzip", True),  # the named coding, not the wildcard
        ("*, gzip;q=0", False),
        ("gzip;q=x", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted
