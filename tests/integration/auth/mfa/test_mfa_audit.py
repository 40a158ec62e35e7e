"""The audit trail records every MFA event, and never a code, a recovery code or the secret."""

from __future__ import annotations

import msgspec
import pytest

from tests.support.clients import Client
from tests.support.db import audit_trail
from tests.support.mfa import (
    Account,
    assert_recovery_codes,
    assert_refused_sign_in,
    mfa_post,
    sign_in,
    signed_in,
)

pytestmark = pytest.mark.anyio


async def test_the_audit_trail_records_mfa_events_without_codes_or_secret(
    client: Client, enrolled: Account, database_url: str
) -> None:
    app, codes = enrolled.authenticator, enrolled.recovery_codes
    wrong = app.wrong_code()
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password, wrong), "invalid_otp")
    await signed_in(client, enrolled.email, enrolled.password, codes[0])
    fresh = assert_recovery_codes(await mfa_post(client, "recovery-codes", enrolled.session, {"code": app.code()}))
    assert (await mfa_post(client, "disable", enrolled.session, {"code": fresh[0]})).status_code == 200

    assert enrolled.user_id is not None
    trail = [event for event in await audit_trail(database_url) if event.actor_user_id == enrolled.user_id]
    events = [event.event for event in trail if "mfa" in event.event]
    assert events == [
        "mfa.enabled",
        "mfa.failed",
        "mfa.recovery_code_used",
        "mfa.recovery_codes_regenerated",
        "mfa.recovery_code_used",
        "mfa.disabled",
    ]
    secrets = [app.secret, wrong, *codes, *fresh, *(code.replace("-", "") for code in codes + fresh)]
    for event in trail:
        recorded = msgspec.json.encode([event.event, event.target_type, event.target_id, event.data]).decode()
        assert not [secret for secret in secrets if secret in recorded], recorded
