"""The closed vocabulary of the policy: every role the engine knows."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role in their organization; one per user."""

    ADMIN = "admin"
    MEMBER = "member"
    CLIENT = "client"
