"""Signing a delivery, and checking one, as the Standard Webhooks specification does.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the key is the base64 part of the endpoint's
`whsec_…` secret; `webhook-signature` is `v1,<base64 HMAC-SHA256>` (several, space-separated, while a secret
is being rotated). A receiver also refuses a timestamp too far from its clock, so a captured delivery cannot
be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

TOLERANCE: Final = 300
"""Seconds a receiver accepts between a delivery's timestamp and its own clock, either way."""


class InvalidSignature(ValueError):
    """The delivery was not signed with this secret, or not recently: do not act on it."""


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header for this message: `v1,` and the base64 HMAC-SHA256."""
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: int = TOLERANCE, now: float | None = None
) -> None:
    """Raise `InvalidSignature` unless `body` came signed with `secret` within `tolerance` seconds of `now`.

    `headers` are the delivery's (names in lower case, as most frameworks give them).
    """
    try:
        message_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
        signatures = headers["webhook-signature"].split()
        timestamp = int(stamp)
    except (KeyError, ValueError):
        raise InvalidSignature("missing or malformed webhook-id, webhook-timestamp or webhook-signature") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise InvalidSignature("the timestamp is too far from now: a replay, or a clock out of step")
    expected = sign(secret, message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("no signature matches")
