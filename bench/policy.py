"""Policy costs: one decision, one list filter, the guard's lookup, and the matrix size.

Run: `uv run python bench/policy.py` (a few seconds; builds a throw-away SQLite database).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from demo_database import demo_database
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.auth.principal import Principal
from tabular.policies import matrix
from tabular.policies.decision import Target, decide
from tabular.policies.filters import visible
from tabular.vocabulary import Action, CredentialKind, Resource, Role

ROUNDS = 20_000
WORKSPACES = frozenset(uuid.uuid4() for _ in range(20))


def micro(label: str, work: object, rounds: int = ROUNDS) -> None:
    start = time.perf_counter()
    for _ in range(rounds):
        work()  # type: ignore[operator]
    print(f"{label:<52} {(time.perf_counter() - start) / rounds * 1e6:8.2f} µs")


async def per_request(directory: Path) -> None:
    settings, demo = await demo_database(directory)
    member = demo.users[1]
    headers = {"X-API-Key": member.api_key}
    async with AsyncTestClient(create_app(settings)) as client:
        report = (await client.get("/api/reports", headers={"X-API-Key": demo.users[0].api_key})).json()
        report_id = report["items"][0]["id"] if report["items"] else None

        async def timed(path: str, request_headers: dict[str, str]) -> float:
            samples = []
            for _ in range(300):
                start = time.perf_counter()
                response = await client.get(path, headers=request_headers)
                samples.append(time.perf_counter() - start)
                assert response.status_code < 500
            return statistics.median(samples) * 1e3

        public = await timed("/api/health", headers)
        listed = await timed("/api/reports?limit=50", headers)
        print(f"{'GET /api/health (public, no guard), median':<52} {public:8.3f} ms")
        print(f"{'GET /api/reports (guard + filtered list), median':<52} {listed:8.3f} ms")
        if report_id:
            single = await timed(f"/api/reports/{report_id}", {"X-API-Key": demo.users[0].api_key})
            print(f"{'GET /api/reports/{id} (guard + tenant lookup), median':<52} {single:8.3f} ms")


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    organization = uuid.uuid4()
    member = Principal(
        user_id=uuid.uuid4(),
        organization_id=organization,
        role=Role.MEMBER,
        workspace_ids=WORKSPACES,
        credential=CredentialKind.API_KEY,
        mfa_enabled=True,
        mfa_verified=True,
    )
    inside = Target(organization, workspace_id=next(iter(WORKSPACES)))
    micro(
        "decide(member, survey, update, own workspace)", lambda: decide(member, Resource.SURVEY, Action.UPDATE, inside)
    )
    micro("visible(member, survey) (build the predicate)", lambda: visible(member, Resource.SURVEY))
    rows = matrix.build()
    start = time.perf_counter()
    matrix.build()
    print(f"{'matrix: cells':<52} {len(rows):8d}")
    print(f"{'matrix: time to build it':<52} {(time.perf_counter() - start) * 1e3:8.2f} ms")
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(per_request(Path(directory)))


if __name__ == "__main__":
    main()
