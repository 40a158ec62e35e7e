"""`tabular policy explain`: the decision the guard would take for a user's request, and why."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from tabular.auth.principal import CredentialKind, Principal
from tabular.db import User, WorkspaceMembership
from tabular.policies.declare import POLICY_OPT_KEY, Requirement
from tabular.policies.engine import Decision, decide
from tabular.policies.targets import locate

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.handlers import BaseRouteHandler
    from sqlalchemy.ext.asyncio import AsyncSession

_PARAMETER = re.compile(r"\{(\w+):\w+\}")


class ExplainError(ValueError):
    """The request cannot be explained (unknown user or route); the message says why."""


def match_route(app: Litestar, method: str, path: str) -> tuple[BaseRouteHandler, dict[str, str]]:
    """The handler serving METHOD PATH, and the path parameters, found the way the router finds them."""
    for route in app.routes:
        pattern = _PARAMETER.sub(r"(?P<\1>[^/]+)", route.path)
        found = re.fullmatch(pattern, path.rstrip("/") or "/")
        if found is None:
            continue
        for handler in getattr(route, "route_handlers", ()):
            if method in getattr(handler, "http_methods", ()):
                return handler, found.groupdict()
    raise ExplainError(f"no route serves {method} {path}")


async def explain(session: AsyncSession, app: Litestar, email: str, method: str, url: str) -> tuple[Decision, str]:
    """Decide METHOD URL for the user signed in with a session; returns the decision and a sentence."""
    parts = urlsplit(url)
    handler, parameters = match_route(app, method.upper(), parts.path)
    declaration = handler.opt.get(POLICY_OPT_KEY)
    if not isinstance(declaration, Requirement):
        return Decision.allow("public"), f"{method.upper()} {parts.path} is public: anyone may call it"
    principal = await _principal(session, email)
    workspace = parse_qs(parts.query).get("workspace_id", [None])[0]
    decision = decide(principal, declaration.resource, declaration.action, None)
    if decision.allowed:
        object_id = parameters.get(declaration.by) if declaration.by else None
        try:
            target = await locate(session, principal, declaration.locate_as, _uuid(object_id), _uuid(workspace))
        except LookupError:
            decision = Decision(allowed=False, status=404, code="not_found", rule="tenant")
        else:
            decision = decide(principal, declaration.resource, declaration.action, target)
    verdict = "allowed" if decision.allowed else f"refused: {decision.status} {decision.code}"
    sentence = (
        f"{method.upper()} {url} as {email} ({principal.role}, session) needs {declaration.action} on "
        f"{declaration.resource}: {verdict}, decided by {decision.rule}"
    )
    return decision, sentence


async def _principal(session: AsyncSession, email: str) -> Principal:
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise ExplainError(f"no user with email {email!r}")
    workspaces = await session.scalars(
        select(WorkspaceMembership.workspace_id).where(WorkspaceMembership.user_id == user.id)
    )
    return Principal(
        user_id=user.id,
        organization_id=user.organization_id,
        role=user.role,
        workspace_ids=frozenset(workspaces),
        credential=CredentialKind.SESSION,
        mfa_enabled=user.mfa_enabled,
        mfa_verified=user.mfa_enabled,
    )


def _uuid(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ExplainError(f"not an id: {value!r}") from None
