"""The API-key format: `tp_` + 48 characters of [A-Za-z0-9] from a CSPRNG, a SHA-256 hex digest, a short prefix."""

import hashlib
import re
import string

import pytest

from tabular.auth.api_key_backend import generate_key, hash_key, looks_like_key

SHAPE = re.compile(r"tp_[A-Za-z0-9]{48}")


def test_a_new_key_has_the_documented_shape_hash_and_prefix() -> None:
    new = generate_key()
    assert SHAPE.fullmatch(new.secret)
    assert new.key_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.prefix == new.secret[:10]
    assert looks_like_key(new.secret)


def test_keys_are_distinct_and_use_the_whole_alphabet() -> None:
    keys = [generate_key().secret for _ in range(300)]
    assert len(set(keys)) == len(keys)
    assert len({key[:10] for key in keys}) == len(keys)  # 7 random characters: a collision here means no randomness
    used = set("".join(key[3:] for key in keys))
    assert used == set(string.ascii_letters + string.digits)  # 14,400 draws miss one of 62 with p < 1e-80


def test_the_hash_is_hex_sha256_and_changes_with_any_character() -> None:
    secret = generate_key().secret
    assert hash_key(secret) == hash_key(secret)
    assert re.fullmatch(r"[0-9a-f]{64}", hash_key(secret))
    assert hash_key(secret) != hash_key(secret[:-1] + ("a" if secret[-1] != "a" else "b"))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "tp_",
        "tp_" + "a" * 47,
        "tp_" + "a" * 49,
        "TP_" + "a" * 48,
        "tp-" + "a" * 48,
        "ct_live_" + "a" * 48,
        " tp_" + "a" * 47,
        "tp_" + "a" * 48 + "\n",
        "tp_" + "a" * 47 + " ",
        "tp_" + "a" * 47 + "_",
        "tp_" + "a" * 47 + "é",
        "tp_" + "a" * 47 + "٣",  # an Arabic-Indic digit: `str.isdigit` says yes, the format says no
        "tp_" + "a" * 47 + "\uff21",  # a fullwidth A
    ],
)
def test_anything_else_does_not_look_like_a_key(value: str) -> None:
    assert not looks_like_key(value)
