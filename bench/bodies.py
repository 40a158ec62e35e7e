"""Memory a request body costs: the audit's amplifier `{"answers": [{}, {}, …]}`, through the API and bare.

Run: `uv run python bench/bodies.py` (about ten seconds). For each size it prints the peak of what Python
allocated (tracemalloc) while:
- the API handled the body (`POST /api/public/surveys/{id}/responses` up to its 64 KiB limit,
  `POST /api/surveys/{id}/responses` with an admin's key up to the 1 MiB default);
- bare, generic: `msgspec.json.decode(body)`, a body turned into Python objects as Litestar's own JSON
  extractor does before converting them to the handler's type (what the API did before `typed_body.py`);
- bare, typed: `msgspec.json.decode(body, type=ResponseCreate)`, what `typed_body.py` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import tracemalloc
from pathlib import Path

import msgspec
from demo_database import demo_database
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.schemas.responses import ResponseCreate

SIZES = (16 * 1024, 60 * 1024, 256 * 1024, 1000 * 1024)
PUBLIC_LIMIT = 64 * 1024


def amplifier(size: int) -> bytes:
    """`{"answers": [{}, {}, …]}` of about `size` bytes."""
    return b'{"answers":[' + b",".join([b"{}"] * (size // 3)) + b"]}"


def peak_of(work: object) -> int:
    tracemalloc.start()
    try:
        with contextlib.suppress(msgspec.ValidationError):
            work()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def main(directory: Path) -> None:
    settings, demo = await demo_database(directory)
    admin_key = demo.users[0].api_key
    survey = demo.surveys[0].id
    json = {"Content-Type": "application/json"}
    print(f"{'body':>10}  {'route':<26} {'status':>6}  {'API peak':>12}  {'bare generic':>12}  {'bare typed':>12}")
    async with AsyncTestClient(create_app(settings)) as client:
        await client.post(f"/api/public/surveys/{survey}/responses", content=amplifier(300), headers=json)  # warm
        for size in SIZES:
            body = amplifier(size)
            if size <= PUBLIC_LIMIT:
                route, path, headers = "public submission", f"/api/public/surveys/{survey}/responses", json
            else:
                route, path, headers = (
                    "member submission (key)",
                    f"/api/surveys/{survey}/responses",
                    json | {"X-API-Key": admin_key},
                )
            tracemalloc.start()
            answer = await client.post(path, content=body, headers=headers)
            api = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            generic = peak_of(lambda body=body: msgspec.json.decode(body))
            typed = peak_of(lambda body=body: msgspec.json.decode(body, type=ResponseCreate))
            print(f"{len(body):>10,}  {route:<26} {answer.status_code:>6}  {api:>12,}  {generic:>12,}  {typed:>12,}")


if __name__ == "__main__":
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(main(Path(directory)))
