"""Fixtures of the integration tests beyond the servers and databases of the top-level conftest."""

from __future__ import annotations

import pytest

from tests.support.db import committed_session
from tests.support.factories import Tenant, new_tenant


@pytest.fixture
async def other_tenant(database_url: str) -> Tenant:
    """Another organization in the test database: an admin, a workspace, an audit event and a survey."""
    async with committed_session(database_url) as session:
        return await new_tenant(session)
