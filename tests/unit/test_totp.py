"""TOTP codes (drift window, single use, format) and recovery codes, on a fixed clock and a fixed secret.

`matching_step` takes the time as an argument, so nothing here depends on the real clock.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from tabular.auth import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_010.0
"""Ten seconds into a time step."""
CURRENT = int(NOW // totp.STEP_SECONDS)
RECOVERY_CODE = re.compile(r"^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}$")


def code_at(step: int) -> str:
    """What an authenticator app shows during `step`."""
    return pyotp.TOTP(SECRET).at(step * totp.STEP_SECONDS)


def matching(code: str, last_step: int | None = None) -> int | None:
    return totp.matching_step(SECRET, code, last_step, now=NOW)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_codes_of_the_current_and_neighbouring_steps_are_accepted(offset: int) -> None:
    assert matching(code_at(CURRENT + offset)) == CURRENT + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_two_or_more_steps_away_are_refused(offset: int) -> None:
    code = code_at(CURRENT + offset)
    assert code not in {code_at(CURRENT + near) for near in (-1, 0, 1)}  # the secret is fixed: no collision
    assert matching(code) is None


def test_the_default_clock_is_the_real_time() -> None:
    assert totp.matching_step(SECRET, pyotp.TOTP(SECRET).now(), None) is not None


def test_spaces_inside_and_around_a_code_are_ignored() -> None:
    code = code_at(CURRENT)
    assert matching(f" {code[:3]} {code[3:]} ") == CURRENT


def other_digits(code: str, zero: int) -> str:
    """`code` written with the Unicode digits whose zero is `zero` (they pass `str.isdigit`)."""
    return "".join(chr(zero + int(digit)) for digit in code)


VALID = code_at(CURRENT)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(VALID[:5], id="five-digits"),
        pytest.param(VALID + "0", id="seven-digits"),
        pytest.param("", id="empty"),
        pytest.param(VALID[:5] + "a", id="letter"),
        pytest.param(VALID[:3] + "-" + VALID[3:], id="dash"),
        pytest.param("-" + VALID[1:], id="sign"),
        pytest.param(other_digits(VALID, 0x0660), id="arabic-indic-digits"),
        pytest.param(other_digits(VALID, 0xFF10), id="fullwidth-digits"),
        pytest.param("\u00b2" * 6, id="superscripts"),
    ],
)
def test_anything_but_six_ascii_digits_is_refused_without_error(code: str) -> None:
    assert matching(code) is None


def test_a_code_is_refused_once_its_step_was_accepted() -> None:
    code = code_at(CURRENT)
    accepted = matching(code)
    assert accepted == CURRENT
    assert matching(code, last_step=accepted) is None


def test_earlier_steps_are_refused_after_a_later_one_was_accepted() -> None:
    accepted = matching(code_at(CURRENT + 1))
    assert accepted == CURRENT + 1
    assert matching(code_at(CURRENT), last_step=accepted) is None
    assert matching(code_at(CURRENT - 1), last_step=accepted) is None


def test_a_later_step_is_accepted_after_an_earlier_one() -> None:
    assert matching(code_at(CURRENT), last_step=CURRENT - 1) == CURRENT
    assert matching(code_at(CURRENT + 1), last_step=CURRENT) == CURRENT + 1


def test_a_wrong_code_is_refused() -> None:
    valid = {code_at(CURRENT + offset) for offset in (-1, 0, 1)}
    wrong = next(f"{digit}" * 6 for digit in "0123456789" if f"{digit}" * 6 not in valid)
    assert matching(wrong) is None


def test_new_secrets_are_random_base32_of_160_bits() -> None:
    secrets = {totp.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)


def test_the_provisioning_uri_names_the_issuer_and_the_account() -> None:
    uri = urlsplit(totp.provisioning_uri(SECRET, "ada@example.com"))
    query = parse_qs(uri.query)
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == "/Tabular:ada@example.com"
    assert query["secret"] == [SECRET]
    assert query["issuer"] == ["Tabular"]


def test_recovery_codes_are_ten_unique_well_formed_codes() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == totp.RECOVERY_CODE_COUNT == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert RECOVERY_CODE.fullmatch(code), code


def test_each_batch_of_recovery_codes_is_new() -> None:
    assert set(totp.new_recovery_codes()).isdisjoint(totp.new_recovery_codes())
