"""`tabular policy explain`: the decision the guard would take for a user's request, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy.exc import MultipleResultsFound

from tabular.auth.identities import load_identity
from tabular.db import User
from tabular.errors import TabularError
from tabular.policies.authorize import Address, authorize
from tabular.policies.decision import Decision
from tabular.policies.guard import address_of, single_values
from tabular.policies.inventory import match_route
from tabular.policies.lookup import TenantLookup
from tabular.policies.requirements import POLICY_OPT_KEY, Requirement
from tabular.schemas.rules import normalize_email
from tabular.vocabulary import CredentialKind, Reason

if TYPE_CHECKING:
    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import Principal


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
    try:
        identity = await load_identity(session, User.email == normalize_email(email))
    except MultipleResultsFound:
        raise ExplainError(f"several organizations have a user with email {email!r}") from None
    if identity is None:
        raise ExplainError(f"no user with email {email!r}")
    return identity.principal(CredentialKind.SESSION, mfa_verified=identity.mfa_enabled)
