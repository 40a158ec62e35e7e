"""The second factor at rest: sealing TOTP secrets, keying recovery codes, reading what 0002 stored."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

import pytest

from tabular.auth.at_rest import RECOVERY_CODE_LABEL, TOTP_SECRET_LABEL, AtRest, UnreadableSecret, derive_key

if TYPE_CHECKING:
    from collections.abc import Callable

SERVER_SECRET = "unit-test-server-secret-" + "z" * 32
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ADA, BOB = uuid.uuid4(), uuid.uuid4()
KEYS = AtRest(SERVER_SECRET)


def test_a_sealed_secret_opens_for_its_owner_and_differs_every_time() -> None:
    first, second = KEYS.seal(SECRET, ADA), KEYS.seal(SECRET, ADA)
    assert first != second, "a fresh nonce for every seal"
    assert first.startswith("v1:")
    assert SECRET not in first
    assert KEYS.open(first, ADA) == KEYS.open(second, ADA) == SECRET


def test_a_sealed_secret_fits_its_column() -> None:
    assert len(KEYS.seal(SECRET, ADA)) <= 128


def test_a_sealed_secret_moved_to_another_users_row_does_not_open() -> None:
    with pytest.raises(UnreadableSecret, match="TABULAR_SECRET_KEY"):
        KEYS.open(KEYS.seal(SECRET, ADA), BOB)


def _flip_last(sealed: str) -> str:
    return sealed[:-1] + ("A" if sealed[-1] != "A" else "B")


def _cut(sealed: str) -> str:
    return sealed[:20]


def _other_version(sealed: str) -> str:
    return "v9" + sealed[2:]


@pytest.mark.parametrize("edit", [_flip_last, _cut, _other_version])
def test_an_edited_sealed_secret_does_not_open(edit: Callable[[str], str]) -> None:
    with pytest.raises(UnreadableSecret):
        KEYS.open(edit(KEYS.seal(SECRET, ADA)), ADA)


def test_a_secret_stored_before_0004_reads_as_itself() -> None:
    assert KEYS.open(SECRET, ADA) == SECRET


def test_the_purposes_keys_differ_from_each_other_and_from_the_signing_secret() -> None:
    totp_key, recovery_key = (
        derive_key(SERVER_SECRET, TOTP_SECRET_LABEL),
        derive_key(SERVER_SECRET, RECOVERY_CODE_LABEL),
    )
    assert len({totp_key, recovery_key, SERVER_SECRET.encode()[:32]}) == 3
    assert derive_key("another-" + SERVER_SECRET, TOTP_SECRET_LABEL) != totp_key


@pytest.mark.parametrize(
    "typed", ["K7MP-2XQA-HV9C-3DFE", "k7mp2xqahv9c3dfe", " k7mp 2xqa hv9c 3dfe ", "K7mp2xQA-hv9c3dfe"]
)
def test_the_recovery_hash_ignores_case_dashes_and_spaces(typed: str) -> None:
    assert KEYS.recovery_hash(typed) == KEYS.recovery_hash("k7mp-2xqa-hv9c-3dfe")


def test_the_recovery_hash_is_keyed_and_tells_codes_apart() -> None:
    stored = KEYS.recovery_hash("k7mp-2xqa-hv9c-3dfe")
    assert stored.startswith("v1:")
    assert len(stored) <= 128
    assert stored != AtRest("another-" + SERVER_SECRET).recovery_hash("k7mp-2xqa-hv9c-3dfe")
    assert stored != KEYS.recovery_hash("k7mp-2xqa-hv9c-3dff")


def test_a_recovery_code_stored_before_0004_is_found_once_keyed() -> None:
    old = hashlib.sha256(b"k7mp2xqahv9c").hexdigest()  # what 0002 stored for `k7mp-2xqa-hv9c`
    keyed = KEYS.key_legacy_recovery_hash(old)
    assert keyed.startswith("v0:")
    assert old not in keyed
    assert keyed in KEYS.recovery_hashes("K7MP-2XQA-HV9C")
