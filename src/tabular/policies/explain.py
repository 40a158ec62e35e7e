"""`tabular policy explain`: the decision the guard would take for a subject's request, and why, in a sentence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabular.policies.check import Verdict, check
from tabular.policies.lookup import TenantLookup
from tabular.policies.subject import UnknownSubjectError, resolve

if TYPE_CHECKING:
    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.subjects import CredentialShape
    from tabular.policies.subject import Who


class ExplainError(ValueError):
    """The request cannot be explained (unknown user or route, bad input); the message says why."""


async def explain(  # noqa: PLR0913 - the subject, the request, and an imagined credential
    session: AsyncSession, app: Litestar, who: Who, method: str, url: str, *, shape: CredentialShape | None = None
) -> tuple[Verdict, str]:
    """Decide METHOD URL for the subject `who` (a user with `shape`, a session by default, or a key as it is)."""
    try:
        subject = await resolve(session, who, shape=shape)
    except UnknownSubjectError as error:
        raise ExplainError(str(error)) from None
    verdict = await check(app, method, url, subject.caller, lambda organization: TenantLookup(session, organization))
    method = method.upper()
    if verdict.rule == "routing":
        raise ExplainError(verdict.detail)
    if verdict.rule in {"query", "address"}:
        raise ExplainError(f"the API answers {verdict.status} {verdict.code}: {verdict.detail}")
    if verdict.rule == "public":
        return verdict, f"{method} {url} is public: anyone may call it"
    outcome = "allowed" if verdict.allowed else f"refused: {verdict.status} {verdict.code}"
    needs = (
        ""
        if verdict.requirement is None
        else (f" needs {verdict.requirement.action} on {verdict.requirement.resource}")
    )
    return verdict, f"{method} {url} as {subject.describe()}{needs}: {outcome}, decided by {verdict.rule}"
