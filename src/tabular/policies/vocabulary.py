"""The closed vocabulary of the policy: roles, resources, actions, scopes. No string literal elsewhere."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role in their organization; one per user."""

    ADMIN = "admin"
    MEMBER = "member"
    CLIENT = "client"


class Resource(StrEnum):
    """What a route acts on."""

    WORKSPACE = "workspace"
    MEMBERSHIP = "membership"
    SURVEY = "survey"
    RESPONSE = "response"
    METRICS = "metrics"
    DASHBOARD = "dashboard"
    REPORT = "report"
    USER = "user"
    AUDIT_EVENT = "audit_event"
    API_KEY = "api_key"
    ACCOUNT = "account"
    """The caller's own account: who-am-I, password, MFA."""


class Action(StrEnum):
    """What a route does to its resource."""

    LIST = "list"
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    @property
    def is_write(self) -> bool:
        """Whether a read-only key is refused this action."""
        return self not in {Action.LIST, Action.READ}


class Scope(StrEnum):
    """Where a rule reaches."""

    ORGANIZATION = "organization"
    """Everything in the caller's organization."""
    MEMBER_WORKSPACES = "member_workspaces"
    """Objects in workspaces the caller belongs to."""
    OWN = "own"
    """Objects that belong to the caller (their keys, their account)."""
