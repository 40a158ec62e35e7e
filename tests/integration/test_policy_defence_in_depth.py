"""Every create path checks the workspace's organization itself: a foreign workspace is a 404, never a write.

The guard already refuses it; this holds for any caller of the services (the CLI, the demo, a future
route wired wrongly), and costs no query: the check is on the row the guard handed over.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tabular.auth.principal import Principal
from tabular.db import Dashboard, Report, Survey
from tabular.errors import NotFound
from tabular.schemas.items import DashboardCreate, ReportCreate
from tabular.schemas.surveys import SurveyCreate
from tabular.services.actor import Actor
from tabular.services.items import DashboardService, ReportService
from tabular.services.surveys import SurveyService
from tabular.vocabulary import CredentialKind, Role
from tests.support.db import committed_session
from tests.support.policy_world import build_world

pytestmark = pytest.mark.anyio


async def test_creating_in_another_organizations_workspace_is_not_found(database_url: str) -> None:
    async with committed_session(database_url) as session:
        world = await build_world(session)
        admin = world.callers[Role.ADMIN]
        foreign = await world.workspace(world.away)
        principal = Principal(
            user_id=admin.id,
            organization_id=world.home.id,
            role=Role.ADMIN,
            workspace_ids=frozenset(),
            credential=CredentialKind.SESSION,
            mfa_enabled=True,
            mfa_verified=True,
        )
        actor = Actor(session, principal=principal)
        with pytest.raises(NotFound):
            await SurveyService(actor).create(foreign, SurveyCreate(title="Intruder"))
        with pytest.raises(NotFound):
            await DashboardService(actor).create(foreign, DashboardCreate(name="Intruder"))
        with pytest.raises(NotFound):
            await ReportService(actor).create(foreign, ReportCreate(name="Intruder"))
        for model in (Survey, Dashboard, Report):
            written = select(func.count()).select_from(model).where(model.workspace_id == foreign.id)
            assert await session.scalar(written) == 0
