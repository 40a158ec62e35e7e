"""The closed vocabulary of the policy: roles, resources, actions, scopes, reasons. No string literal elsewhere."""

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
    ORGANIZATION_KEY = "organization_key"
    """Any API key of the organization, as its admins review them (listed by owner, revoked)."""


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


class Reason(StrEnum):
    """Why a decision came out as it did: the stable `code` of a refusal, with its status and message here."""

    ALLOWED = "allowed"
    UNAUTHENTICATED = "unauthenticated"
    ROLE_FORBIDDEN = "role_forbidden"
    API_KEY_NOT_ALLOWED = "api_key_not_allowed"
    READ_ONLY_KEY = "read_only_key"
    OUTSIDE_PINNED_WORKSPACE = "outside_pinned_workspace"
    NOT_A_MEMBER = "not_a_member"
    NOT_FOUND = "not_found"

    @property
    def status(self) -> int:
        """The HTTP status this reason answers with."""
        return _STATUS.get(self, 403)

    @property
    def message(self) -> str:
        """The sentence a refused caller reads (`detail`); a 404 says nothing more than "not found"."""
        return _MESSAGES[self]


_STATUS: dict[Reason, int] = {Reason.ALLOWED: 200, Reason.UNAUTHENTICATED: 401, Reason.NOT_FOUND: 404}
_MESSAGES: dict[Reason, str] = {
    Reason.ALLOWED: "Allowed.",
    Reason.UNAUTHENTICATED: "Authentication required: send an API key or a session token.",
    Reason.ROLE_FORBIDDEN: "Your role does not allow this.",
    Reason.API_KEY_NOT_ALLOWED: "API keys cannot do this; sign in with a session.",
    Reason.READ_ONLY_KEY: "This API key is read-only.",
    Reason.OUTSIDE_PINNED_WORKSPACE: "This API key is pinned to another workspace.",
    Reason.NOT_A_MEMBER: "You are not a member of that workspace.",
    Reason.NOT_FOUND: "Not found.",
}


class CredentialKind(StrEnum):
    """How the caller proved who they are."""

    SESSION = "session"
    API_KEY = "api_key"
