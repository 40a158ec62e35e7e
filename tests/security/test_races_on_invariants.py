"""Attack: race two requests past a check-then-write invariant (audit finding 4).

`SELECT ... FOR UPDATE` locked the row on PostgreSQL but did nothing on SQLite, so two admins demoting each
other at once both passed the "another admin remains" check and left the organization without one, and a
one-time set-password token sent twice at once worked twice. Each race runs several rounds of requests
that really overlap (`raw_client`), on both engines.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from tabular.db import User
from tabular.vocabulary import Role
from tests.support.clients import bearer, raw_client
from tests.support.db import committed_session
from tests.support.factories import new_organization, new_user
from tests.support.sessions import claims_for, forge

if TYPE_CHECKING:
    from uuid import UUID

    from tabular.settings import Settings

pytestmark = pytest.mark.anyio

ROUNDS = 4


async def _admins(database_url: str, count: int) -> tuple[UUID, list[UUID]]:
    async with committed_session(database_url) as session:
        organization = await new_organization(session)
        admins = [await new_user(session, organization, role=Role.ADMIN) for _ in range(count)]
    return organization.id, [admin.id for admin in admins]


def _session(user: UUID) -> dict[str, str]:
    return bearer(forge(claims_for(user, mfa=True)))


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(settings: Settings, database_url: str) -> None:
    async with raw_client(settings) as client:
        for _ in range(ROUNDS):
            organization, (first, second) = await _admins(database_url, 2)
            demote = {"role": "member"}
            answers = await asyncio.gather(
                client.patch(f"/api/users/{second}", json=demote, headers=_session(first)),
                client.patch(f"/api/users/{first}", json=demote, headers=_session(second)),
            )

            # Both in flight at once: the second to lock the rows is refused (409 `last_admin`). When the first
            # commits before the second is even authenticated, the second admin's session already ended with
            # their demotion (401). Either way exactly one admin is left.
            outcome = sorted((answer.status_code, answer.json().get("code")) for answer in answers)
            texts = [answer.text for answer in answers]
            assert outcome[0] == (200, None), texts
            assert outcome[1] in {(409, "last_admin"), (401, "session_revoked")}, texts
            async with committed_session(database_url) as session:
                admins = await session.scalar(
                    select(func.count()).where(User.organization_id == organization, User.role == Role.ADMIN)
                )
            assert admins == 1


async def test_a_set_password_token_sent_twice_at_once_works_once(settings: Settings, database_url: str) -> None:
    async with raw_client(settings) as client:
        for round_ in range(ROUNDS):
            _, (admin,) = await _admins(database_url, 1)
            invited = await client.post(
                "/api/users",
                json={"email": f"invited-{round_}@example.com", "name": "Invited", "role": "member"},
                headers=_session(admin),
            )
            assert invited.status_code == 201, invited.text
            token = invited.json()["set_password_token"]

            answers = await asyncio.gather(
                *(
                    client.post("/api/users/set-password", json={"token": token, "password": password})
                    for password in ("First-choice-passphrase", "Second-choice-passphrase")
                )
            )

            assert sorted(answer.status_code for answer in answers) == [204, 401], [a.text for a in answers]
