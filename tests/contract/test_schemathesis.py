"""Schemathesis over every operation of the live schema, as each kind of caller: the API answers as it documents.

Fails on any 5xx, an undocumented status, content type or header, or a body that does not match its schema;
the failure lists every distinct problem with a curl line to reproduce it (credentials filtered).
Bounded: two examples per operation and mode, ten stateful steps, a fixed seed, a deadline per identity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.contract.fuzzing import DEADLINE, completed, fuzz
from tests.support.contract import identities
from tests.support.live import status_of

if TYPE_CHECKING:
    from tests.support.contract import Live

# In this order: the admin, whose fuzzed DELETEs can remove demo workspaces, goes last.
IDENTITIES = ["anonymous", "client", "read-only-key", "pinned-key", "member", "admin"]


@pytest.fixture(scope="module")
def callers(live: Live) -> dict[str, dict[str, str]]:
    return identities(live)


@pytest.mark.timeout(DEADLINE + 60)  # the run stops itself at DEADLINE; this also covers the server's start
@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_operation_answers_as_documented(live: Live, callers: dict[str, dict[str, str]], identity: str) -> None:
    headers = callers[identity]
    if headers:  # an earlier identity's fuzzing must not have taken this one's credential away
        assert status_of(f"{live.base_url}/api/auth", headers) == 200

    run = fuzz(live.base_url, headers)

    assert completed(run), run.report()
    assert not run.unanswered, run.report()
    assert run.phases.get("stateful") not in {None, "skip"}, run.report()
    if run.findings:
        pytest.fail(f"as {identity}: {run.report()}", pytrace=False)
