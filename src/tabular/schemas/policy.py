"""`/api/policy` bodies: a question about a subject and a request, and the guard's answer to it."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from tabular.schemas.rules import Email, Input

MAX_CHECKS = 100
Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
RequestPath = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=2048,
        pattern=r"^/[^\s#]*$",
        description="The path as a client sends it, ids and query string included: /api/surveys/ID?x=1",
    ),
]


class SubjectRef(Input, frozen=True):
    """Who would make the request: exactly one of a user (by id or email) or an API key (by id, as it is)."""

    user_id: UUID | None = None
    email: Email | None = None
    api_key_id: UUID | None = None

    def __post_init__(self) -> None:
        """Exactly one way of naming the subject (a ValueError here is a 422)."""
        super().__post_init__()
        if sum(value is not None for value in (self.user_id, self.email, self.api_key_id)) != 1:
            message = "name the subject by exactly one of user_id, email or api_key_id"
            raise ValueError(message)


class PolicyCheck(Input, frozen=True):
    """May this subject make this request now: a user is asked about as a session, a key as it is."""

    subject: SubjectRef
    method: Method
    path: RequestPath


class PolicyCheckBatch(Input, frozen=True):
    """Up to 100 questions, answered in order."""

    checks: Annotated[list[PolicyCheck], msgspec.Meta(min_length=1, max_length=MAX_CHECKS)]


class CheckedTarget(msgspec.Struct, frozen=True):
    """What the request names and where the guard found it (None fields: not applicable)."""

    resource: str
    id: UUID
    organization_id: UUID
    workspace_id: UUID | None
    owner_id: UUID | None


class CheckedSubject(msgspec.Struct, frozen=True):
    """Whom the answer is about, as the guard sees them."""

    user_id: UUID
    role: str
    credential: str
    """`session`, `key`, `read-only key`, or a key `pinned to` a workspace."""
    api_key_id: UUID | None


class PolicyAnswer(msgspec.Struct, frozen=True):
    """The guard's answer: `status` 200 when it lets the request through, else its refusal's status and `code`.

    `rule` is what decided: a rule id of the policy table, or a step of the guard (`routing`, `query`,
    `public`, `authentication`, `address`, `tenant`). `target` is what the guard located, when it found it.
    """

    allowed: bool
    status: int
    code: str
    rule: str
    detail: str
    subject: CheckedSubject
    route: str | None
    resource: str | None
    action: str | None
    target: CheckedTarget | None


class PolicyAnswers(msgspec.Struct, frozen=True):
    """The answers, in the order of the questions."""

    results: list[PolicyAnswer]
