"""Attack: choose your own address behind a proxy that writes hops the API cannot read as bare IPs.

A client prepends `X-Forwarded-For: 6.6.6.6` and the trusted proxy appends what it saw as `ip:port`, or
`unknown`. Skipping the hop the API cannot read would land on the client's own, for the rate limits and
the audit log alike. A live `tabular serve` behind "a proxy" (the loopback peer, trusted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tabular.db.audit import AuditEventType
from tests.support.db import audit_trail
from tests.support.live import call, demo_database, serving

if TYPE_CHECKING:
    from pathlib import Path

    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio

FORWARDED = {
    "6.6.6.6, 198.51.100.1:4711": "198.51.100.1",  # the proxy wrote the port: its hop is still read
    "6.6.6.6, [2001:db8::1]:443": "2001:db8::1",
    "6.6.6.6, unknown": "127.0.0.1",  # unreadable: the proxy's own address, never the client's claim
}


async def test_a_client_cannot_pick_its_address_past_a_hop_written_with_a_port_or_unknown(
    tmp_path: Path, sqlite_demo_template: tuple[Path, DemoData]
) -> None:
    template, demo = sqlite_demo_template
    demo_database(tmp_path, template)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'tabular.db'}"
    variables = {"TABULAR_TRUSTED_PROXIES": "127.0.0.1/32", "TABULAR_SECRET_KEY": "k" * 40}
    body = {"action": "login", "email": demo.users[0].email, "password": "not the password"}
    with serving(tmp_path, **variables) as base:
        for forwarded in FORWARDED:
            status, _, answer = call(f"{base}/api/auth", {"X-Forwarded-For": forwarded}, body)
            assert status == 401, answer
    failed = await audit_trail(database_url, AuditEventType.LOGIN_FAILED)
    assert [event.client_ip for event in failed] == list(FORWARDED.values())
