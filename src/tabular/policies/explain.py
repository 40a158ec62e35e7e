"""`tabular policy explain`: the decision the guard would take for a user's request, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select

from tabular.auth.principal import CredentialKind, Principal
from tabular.db import User, WorkspaceMembership
from tabular.errors import TabularError
from tabular.policies.authorize import Address, authorize
from tabular.policies.decision import Decision
from tabular.policies.guard import address_of, single_values
from tabular.policies.inventory import match_route
from tabular.policies.lookup import TenantLookup
from tabular.policies.requirements import POLICY_OPT_KEY, Requirement
from tabular.vocabulary import Reason

if TYPE_CHECKING:
    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession


class ExplainError(ValueError):
    """The request cannot be explained (unknown user or route, bad input); the message says why."""


async def explain(session: AsyncSession, app: Litestar, email: str, method: str, url: str) -> tuple[Decision, str]:
    """Decide METHOD URL for the user signed in with a session; returns the decision and a sentence."""
    parts = urlsplit(url)
    method = method.upper()
    matched = match_route(app, method, parts.path)
    if matched is None:
        raise ExplainError(f"no route serves {method} {parts.path}")
    handler, parameters = matched
    declaration = handler.opt.get(POLICY_OPT_KEY)
    if not isinstance(declaration, Requirement):
        return Decision(Reason.ALLOWED, "public"), f"{method} {parts.path} is public: anyone may call it"
    principal = await _principal(session, email)

    def address() -> Address | None:
        return address_of(declaration, parameters, single_values(parse_qsl(parts.query, keep_blank_values=True)))

    locate = TenantLookup(session, principal.organization_id)
    try:
        outcome = await authorize(principal, declaration.resource, declaration.action, address, locate)
    except TabularError as error:
        raise ExplainError(f"the API answers {error.status_code} {error.code}: {error.detail}") from None
    decision = outcome.decision
    verdict = "allowed" if decision.allowed else f"refused: {decision.status} {decision.code}"
    sentence = (
        f"{method} {url} as {email} ({principal.role}, session) needs {declaration.action} on "
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
