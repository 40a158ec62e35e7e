"""Webhook signatures: the Standard Webhooks test vector, and the receiver code the README shows is the module's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tabular.webhooks import InvalidSignature, sign, signing, verify

README = Path(__file__).resolve().parents[2] / "README.md"

# The example of the Standard Webhooks specification's README, computed by its reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
HEADERS = {"webhook-id": MESSAGE_ID, "webhook-timestamp": str(TIMESTAMP), "webhook-signature": SIGNATURE}


def test_the_signature_is_the_specifications_for_its_example() -> None:
    assert sign(SECRET, MESSAGE_ID, TIMESTAMP, BODY) == SIGNATURE


def test_one_of_several_signatures_may_match_as_while_a_secret_is_rotated() -> None:
    rotated = HEADERS | {"webhook-signature": f"v1,bm90LXRoaXMtb25l {SIGNATURE}"}
    verify(SECRET, rotated, BODY, now=TIMESTAMP)
    with pytest.raises(InvalidSignature):
        verify(SECRET, HEADERS | {"webhook-signature": "v1,bm90LXRoaXMtb25l"}, BODY, now=TIMESTAMP)


def _readme_receiver() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    [receiver] = [block for block in blocks if "def verify(" in block]
    return str(receiver)


def test_the_readmes_receiver_is_the_modules_code() -> None:
    source = Path(signing.__file__).read_text(encoding="utf-8")
    shown = source[source.index("def _key") :]
    assert shown in _readme_receiver()


def test_the_readmes_receiver_runs_alone_and_refuses_a_forgery() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(_readme_receiver(), "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    namespace["verify"](SECRET, HEADERS, BODY, now=TIMESTAMP + 10)
    for headers, body, now in [
        (HEADERS, BODY.replace(b"4", b"5"), TIMESTAMP),
        (HEADERS, BODY, TIMESTAMP + 301),
        (HEADERS | {"webhook-id": "msg_other"}, BODY, TIMESTAMP),
    ]:
        with pytest.raises(namespace["InvalidSignature"]):
            namespace["verify"](SECRET, headers, body, now=now)
