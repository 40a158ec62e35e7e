"""`/api/policy`: the policy as data, and the guard's decision for a subject without making the request."""

from __future__ import annotations

from typing import Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from tabular.policies.document import PolicyDocument
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.schemas.policy import PolicyAnswer, PolicyAnswers, PolicyCheck, PolicyCheckBatch
from tabular.services.policy import SUBJECT_NOT_FOUND, PolicyService
from tabular.vocabulary import Action, Resource

_CHECK: Final = requires(Resource.POLICY, Action.LIST, problems={404: SUBJECT_NOT_FOUND})
"""Both checks: a policy reader's, and 404 for a subject (user or key) outside your organization."""


class PolicyController(Controller):
    """Admins (and their CI) ask what the guard would answer; nothing is performed, nothing written."""

    path = "/api/policy"
    tags = ["policy"]  # noqa: RUF012
    dependencies = {"policy": service(PolicyService)}  # noqa: RUF012

    @get("", **requires(Resource.POLICY, Action.LIST), summary="The policy table, the declared routes and the matrix")
    async def get_policy(
        self, request: Request[Any, Any, Any], policy: NamedDependency[PolicyService]
    ) -> PolicyDocument:
        """The same document as `tabular policy export --format json`."""
        return policy.document(request.app)

    @post("/check", **_CHECK, status_code=HTTP_200_OK, summary="Would the guard let this subject make this request?")
    async def check_policy(
        self, request: Request[Any, Any, Any], data: JSONBody[PolicyCheck], policy: NamedDependency[PolicyService]
    ) -> PolicyAnswer:
        """Decided exactly as the guard would now, for a user of your organization (as a session) or a key."""
        return await policy.check(request.app, data)

    @post("/check/batch", **_CHECK, status_code=HTTP_200_OK, summary="Up to 100 checks in one call")
    async def check_policy_batch(
        self, request: Request[Any, Any, Any], data: JSONBody[PolicyCheckBatch], policy: NamedDependency[PolicyService]
    ) -> PolicyAnswers:
        """The answers in the order of the checks."""
        return await policy.check_all(request.app, data.checks)
