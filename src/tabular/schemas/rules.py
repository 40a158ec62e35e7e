"""Every input rule, once: the text types request bodies are made of, and the base every request body extends.

The rules are checked where msgspec decodes the body, so a create and an update of the same field answer
alike (a 422 naming the field) on every database. Control characters never get in: PostgreSQL refuses NUL
in text and JSONB (a 500 if it got that far), and the others are invisible in every client that shows them.

- `Annotated[str, line(n)]`: one line of up to n characters, not blank, no control character; trimmed of surrounding
  spaces (names, titles, choices).
- `Annotated[str, text(n)]`: free text of up to n characters (blank only where said); line breaks and tabs
  allowed, other control characters not.
- `Email`: an address as the API accepts it, trimmed; compared and stored lower-cased (`normalize_email`).
- `OneTimeCode`: a second-factor code as typed (spaces and dashes are read past).
- `RecentPassword`: the current password, sent where a step needs a recent proof of it (`PasswordProof`).
- `Password`: bounded here; how strong a new one must be is `password_problem` (it needs the email too),
  so an empty or short one is a 422 `weak_password`, and at sign-in simply wrong.
- Free-form JSON (a dashboard's widgets, a report's config) may hold anything but the NUL character, nested
  at most 16 deep and 10,000 values in all.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Final

import msgspec

from tabular.settings import RECENT_SIGN_IN

_CONTROL: Final = r"\x00-\x1f\x7f-\x9f"
_CONTROL_BUT_BREAKS: Final = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_ADDRESS_PART: Final = rf"[^@\s{_CONTROL}]+"

LINE_PATTERN: Final = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"
TEXT_PATTERN: Final = rf"^[^{_CONTROL_BUT_BREAKS}]*$"
FILLED_TEXT_PATTERN: Final = rf"^[^{_CONTROL_BUT_BREAKS}]*[^\s{_CONTROL_BUT_BREAKS}][^{_CONTROL_BUT_BREAKS}]*$"
EMAIL_PATTERN: Final = rf"^ *{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART} *$"

RULE_MESSAGES: Final = {
    LINE_PATTERN: "must not be blank or contain control characters",
    TEXT_PATTERN: "must not contain control characters other than line breaks and tabs",
    FILLED_TEXT_PATTERN: "must not be blank or contain control characters other than line breaks and tabs",
    EMAIL_PATTERN: "not an email address",
}
"""What each pattern means, for the 422 a client reads (msgspec's own message quotes the regex)."""

MAX_FREE_FORM_DEPTH: Final = 16
MAX_FREE_FORM_VALUES: Final = 10_000
"""Free-form JSON (a dashboard's widgets, a report's config): how deep it may nest, how many values it may hold."""

MIN_PASSWORD_LENGTH: Final = 10
MIN_DISTINCT_CHARACTERS: Final = 5
MAX_PASSWORD_LENGTH: Final = 1024

_TRIM: Final = "trim"


def line(max_length: int, description: str | None = None) -> msgspec.Meta:
    """One non-blank line of at most `max_length` characters, trimmed once decoded."""
    return msgspec.Meta(
        min_length=1, max_length=max_length, pattern=LINE_PATTERN, description=description, extra={_TRIM: True}
    )


def text(max_length: int, description: str | None = None, *, blank: bool = True) -> msgspec.Meta:
    """At most `max_length` characters (not blank unless `blank`), line breaks and tabs allowed."""
    pattern = TEXT_PATTERN if blank else FILLED_TEXT_PATTERN
    return msgspec.Meta(min_length=0 if blank else 1, max_length=max_length, pattern=pattern, description=description)


Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=320,
        pattern=EMAIL_PATTERN,
        description="An email address, e.g. pat@example.com; compared and stored lower-cased",
        extra={_TRIM: True},
    ),
]
Password = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_PASSWORD_LENGTH,
        description=f"At least {MIN_PASSWORD_LENGTH} characters, {MIN_DISTINCT_CHARACTERS} of them different, "
        "not the email address",
    ),
]

RecentPassword = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_PASSWORD_LENGTH,
        description="Your current password; needed unless this session signed in within the last "
        f"{RECENT_SIGN_IN // dt.timedelta(minutes=1)} minutes",
    ),
]
"""The proof of the password that changing how an account is guarded needs, when the sign-in is not recent."""

Name = Annotated[str, line(200, "1-200 characters, one line")]
"""A name or a title."""
OneTimeCode = Annotated[
    str, msgspec.Meta(min_length=1, max_length=32, description="A current TOTP code, or an unused recovery code")
]


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively: stored and looked up lower-cased."""
    return email.strip().lower()


def password_problem(password: str, email: str, current: str | None = None) -> str | None:
    """Why `password` is too weak, or None: long enough, varied enough, not the email, not the old one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"The password must use at least {MIN_DISTINCT_CHARACTERS} different characters."
    if password.lower() in {email.lower(), email.split("@", 1)[0].lower()}:
        return "The password must not be the email address."
    if current is not None and password == current:
        return "The new password must differ from the current one."
    return None


class Input(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base of every request body: unknown fields refused, `line`s trimmed, no NUL in free-form JSON."""

    def __post_init__(self) -> None:
        """Runs as msgspec decodes: a ValueError here is a 422 like any other decoding error."""
        trimmed, free_form = _special_fields(type(self))
        for name in trimmed:
            value = getattr(self, name)
            if isinstance(value, str):
                msgspec.structs.force_setattr(self, name, value.strip())
            elif isinstance(value, list):
                msgspec.structs.force_setattr(self, name, [item.strip() for item in value])
        for name in free_form:
            if problem := free_form_problem(getattr(self, name)):
                message = f"`{name}` {problem}"
                raise ValueError(message)


@functools.cache
def _special_fields(struct: type[msgspec.Struct]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fields to trim (a `line`, an optional one, a list of them) and those of free-form JSON."""
    trimmed: list[str] = []
    free_form: list[str] = []
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)  # noqa: S101 - Input is a Struct
    for field in info.fields:
        kinds = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
        for kind in kinds:
            item = kind.item_type if isinstance(kind, msgspec.inspect.ListType) else kind
            if isinstance(item, msgspec.inspect.Metadata) and _TRIM in (item.extra or {}):
                trimmed.append(field.name)
            elif isinstance(kind, msgspec.inspect.DictType):
                free_form.append(field.name)
    return tuple(dict.fromkeys(trimmed)), tuple(dict.fromkeys(free_form))


def free_form_problem(value: object) -> str | None:
    """What is wrong with free-form JSON, or None: too deep, too many values, or a NUL character anywhere.

    Walked with a stack of its own, not recursion, so no nesting reaches Python's recursion limit.
    """
    pending: list[tuple[object, int]] = [(value, 1)]
    seen = 0
    while pending:
        item, depth = pending.pop()
        seen += 1
        if depth > MAX_FREE_FORM_DEPTH:
            return f"must not nest deeper than {MAX_FREE_FORM_DEPTH} levels"
        if seen > MAX_FREE_FORM_VALUES:
            return f"must not hold more than {MAX_FREE_FORM_VALUES} values"
        if isinstance(item, str) and "\x00" in item:
            return "must not contain the NUL character"
        if isinstance(item, dict):
            pending += [(key, depth + 1) for key in item] + [(child, depth + 1) for child in item.values()]
        elif isinstance(item, list):
            pending += [(child, depth + 1) for child in item]
    return None


class PasswordProof(Input, frozen=True):
    """The body of a step that needs nothing but a recent proof of the password (optional with a recent sign-in)."""

    password: RecentPassword | None = None
