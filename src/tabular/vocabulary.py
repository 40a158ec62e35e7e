"""The closed vocabulary of the policy: roles, resources, actions, scopes, reasons. No string literal elsewhere."""

from __future__ import annotations

from enum import StrEnum, auto

# A member's value is its name in lower case (what `auto()` gives a StrEnum): the word the API, the database and
# POLICY.md carry.


class Role(StrEnum):
    """A user's role in their organization; one per user."""

    ADMIN = auto()
    MEMBER = auto()
    CLIENT = auto()


class Resource(StrEnum):
    """What a route acts on."""

    WORKSPACE = auto()
    MEMBERSHIP = auto()
    SURVEY = auto()
    RESPONSE = auto()
    METRICS = auto()
    DASHBOARD = auto()
    REPORT = auto()
    USER = auto()
    AUDIT_EVENT = auto()
    API_KEY = auto()
    ACCOUNT = auto()
    """The caller's own account: who-am-I, password, MFA."""
    POLICY = "policy"
    """The policy itself, as data: its table and matrix, and its decisions asked without making the request."""
    ORGANIZATION_KEY = "organization_key"
    """Any API key of the organization, as its admins review them (listed by owner, revoked)."""
    WEBHOOK_ENDPOINT = "webhook_endpoint"
    """A URL of a workspace's that events are pushed to, with its deliveries (updating one re-sends a delivery)."""


class Action(StrEnum):
    """What a route does to its resource."""

    LIST = auto()
    READ = auto()
    CREATE = auto()
    UPDATE = auto()
    DELETE = auto()

    @property
    def is_write(self) -> bool:
        """Whether a read-only key is refused this action."""
        return self not in {Action.LIST, Action.READ}


class Scope(StrEnum):
    """Where a rule reaches."""

    ORGANIZATION = auto()
    """Everything in the caller's organization."""
    MEMBER_WORKSPACES = auto()
    """Objects in workspaces the caller belongs to."""
    OWN = auto()
    """Objects that belong to the caller (their keys, their account)."""


class Reason(StrEnum):
    """Why a decision came out as it did: the stable `code` of a refusal, with its status and message here."""

    ALLOWED = auto()
    UNAUTHENTICATED = auto()
    ROLE_FORBIDDEN = auto()
    API_KEY_NOT_ALLOWED = auto()
    READ_ONLY_KEY = auto()
    OUTSIDE_PINNED_WORKSPACE = auto()
    NOT_A_MEMBER = auto()
    NOT_FOUND = auto()

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

    SESSION = auto()
    API_KEY = auto()
