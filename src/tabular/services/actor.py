"""Who acts, from where, in which transaction: what every service is built from.

The API builds one `Actor` per request (the authenticated principal, or nobody on a public route; the client
IP; the request's database session); the CLI and the demo build one for the operator: `Actor(session)`. Every
service takes an actor and nothing else, so a rule or an audit event lives in the service and no caller can
go around it: `tabular users create` and `POST /api/users` run the same code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tabular.auth.principal import rejection
from tabular.db.audit import record
from tabular.db.config import KEEP_ON_REFUSAL

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.at_rest import AtRest
    from tabular.auth.engine import AuthEngine
    from tabular.auth.principal import AuthFailure, Principal
    from tabular.db import User
    from tabular.db.audit import AuditEventType


class Actor:
    """The caller of a service: the principal (None for an anonymous step or an operator), their IP, the session.

    A plain class, not a dataclass: Litestar hands dependencies through msgspec, which would inspect (and
    re-check on every request) a dataclass's fields.
    """

    __slots__ = ("_at_rest", "auth", "client_ip", "principal", "refusal", "session")

    def __init__(  # noqa: PLR0913 - five facts of one request, each its own; an operator passes one
        self,
        session: AsyncSession,
        auth: AuthEngine | None = None,
        principal: Principal | None = None,
        client_ip: str | None = None,
        *,
        at_rest: AtRest | None = None,
        refusal: AuthFailure | None = None,
    ) -> None:
        self.session = session
        self.auth = auth
        """The app's credential engine; None for an operator, whose process serves no requests."""
        self.principal = principal
        self.client_ip = client_ip
        self.refusal = refusal
        """Why the credentials sent, if any, were not accepted (a public route still runs without a principal)."""
        self._at_rest = at_rest or (auth.at_rest if auth is not None else None)

    @property
    def engine(self) -> AuthEngine:
        """The credential engine, for what signs tokens or revokes them (requests only)."""
        if self.auth is None:
            raise RuntimeError("this step needs the app's credential engine: run it through the API")
        return self.auth

    @property
    def at_rest(self) -> AtRest:
        """The keys of the second factor at rest: the engine's in a request, the operator's own at the CLI."""
        if self._at_rest is None:
            raise RuntimeError("this step needs the server secret: build the operator's Actor with at_rest=")
        return self._at_rest

    @property
    def caller(self) -> Principal:
        """The authenticated principal, or the refusal the guard gives a protected route (`rejection`).

        A route that needs a caller is never public, so this matters only for a public route's step that needs
        one after all: logging out.
        """
        if self.principal is None:
            raise rejection(self.refusal)
        return self.principal

    async def record(
        self,
        event: AuditEventType,
        *,
        as_user: User | None = None,
        organization_id: UUID | None = None,
        target: tuple[str, object] | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append an audit event by this actor, in this transaction.

        The actor is `as_user` when given (someone acting on their own account before a principal exists,
        such as signing in), else the principal, else nobody (an operator at the CLI). The organization is
        that actor's, or `organization_id` for an operator's event.
        """
        actor_user_id = as_user.id if as_user else self.principal.user_id if self.principal else None
        organization = (
            as_user.organization_id if as_user else self.principal.organization_id if self.principal else None
        )
        target_type, target_id = target or (None, None)
        await record(
            self.session,
            event,
            organization_id=organization or organization_id,
            actor_user_id=actor_user_id,
            target_type=target_type,
            target_id=target_id,
            data=data,
            client_ip=self.client_ip,
        )

    def forget(self, *, user_ids: Iterable[UUID] = (), key_hashes: Iterable[str] = ()) -> None:
        """Changes to these users or keys reach this process's next request (cached identities dropped)."""
        if self.auth is not None:  # an operator's process caches nothing
            self.auth.identities.forget_on_commit(self.session, user_ids=user_ids, key_hashes=key_hashes)

    def keep_on_refusal(self) -> None:
        """Commit this transaction even though the request is about to be refused.

        For what a refusal must not undo: a failed sign-in in the audit log, a wrong second-factor code
        counted towards the lockout. The one place that commits or rolls back reads this mark.
        """
        self.session.info[KEEP_ON_REFUSAL] = True


class Service:
    """Base of every service: built from an actor, working in the actor's transaction."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.session = actor.session
