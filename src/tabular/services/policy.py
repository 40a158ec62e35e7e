"""`/api/policy`: the policy as data, and the guard's answer for a subject of the caller's organization.

A check reads (the subject, the object the request names) and writes nothing: no audit event, no key use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from tabular.errors import FieldError, NotFound
from tabular.policies.check import check
from tabular.policies.document import PolicyDocument, document
from tabular.policies.inventory import declared_routes
from tabular.policies.lookup import TenantLookup
from tabular.policies.subject import UnknownSubjectError, Who, resolve
from tabular.schemas.policy import CheckedSubject, CheckedTarget, PolicyAnswer, PolicyAnswers
from tabular.services.actor import Service

if TYPE_CHECKING:
    from uuid import UUID

    from litestar import Litestar

    from tabular.policies.authorize import Locator
    from tabular.schemas.policy import PolicyCheck


SUBJECT_NOT_FOUND: Final = "The subject is not a user or key of your organization."


class PolicyService(Service):
    """Answers as the guard would, without making the request; only inside the caller's organization."""

    def document(self, app: Litestar) -> PolicyDocument:
        """The table, the declared routes of `app` and the matrix."""
        return document(declared_routes(app))

    async def check(self, app: Litestar, question: PolicyCheck, field: str = "subject") -> PolicyAnswer:
        """The answer to one question; a subject outside the caller's organization is a 404 naming `field`.

        A 404 as everywhere an object of another organization is named: another tenant's user or key and a
        nonexistent one are refused alike; `errors` says which subject (of a batch) it was.
        """
        organization_id = self.actor.caller.organization_id
        ref = question.subject
        try:
            subject = await resolve(
                self.actor.session, Who(ref.user_id, ref.email, ref.api_key_id), organization_id=organization_id
            )
        except UnknownSubjectError as error:
            name = f"{field}.{error.field}"
            raise NotFound(
                SUBJECT_NOT_FOUND,
                errors=[FieldError(message="not found in your organization", field=name, source="body")],
            ) from None
        verdict = await check(app, question.method, question.path, subject.caller, self._locator)
        located, address, requirement = verdict.located, verdict.address, verdict.requirement
        target = None
        if located is not None and address is not None:
            where = located.target
            target = CheckedTarget(address.resource.value, address.id, where.organization_id, where.workspace_id,
                                   where.owner_id)  # fmt: skip
        return PolicyAnswer(
            allowed=verdict.allowed, status=verdict.status, code=verdict.code, rule=verdict.rule,
            detail=verdict.detail,
            subject=CheckedSubject(subject.user_id, subject.role, subject.shape.describe(), subject.shape.key_id),
            route=verdict.route,
            resource=None if requirement is None else requirement.resource.value,
            action=None if requirement is None else requirement.action.value,
            target=target,
        )  # fmt: skip

    async def check_all(self, app: Litestar, questions: list[PolicyCheck]) -> PolicyAnswers:
        """Each answer in order; a subject outside the organization names its question (`checks[3].subject`)."""
        return PolicyAnswers(
            [await self.check(app, question, f"checks[{n}].subject") for n, question in enumerate(questions)]
        )

    def _locator(self, organization_id: UUID) -> Locator:
        return TenantLookup(self.actor.session, organization_id)
