"""decide → locate → decide, written once: the guard, the check API, `explain`, test files and the matrix call it.

They differ only in how they locate: the guard, the check API, `explain` and a test file of the demo world
ask the database (`policies/lookup.py`), a policy test file its declared world, the matrix its imagined
situations.
Refusals that need no lookup (role, credential, key scope) come first, so nothing is looked up for a
caller who could never be allowed — the same answer for every id, leaking nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tabular.policies.decision import NOT_FOUND, Decision, Target, decide
from tabular.policies.table import POLICY, PolicyTable

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from tabular.auth.principal import Principal
    from tabular.vocabulary import Action, Resource


@dataclass(frozen=True, slots=True)
class Address:
    """What a request names: an object of `resource` (or the container of one) by its id."""

    resource: Resource
    id: UUID


@dataclass(frozen=True, slots=True)
class Located:
    """What a lookup found in the caller's organization: the row itself (when loaded) and where it lives."""

    target: Target
    row: Any = None


class Locator(Protocol):
    """Finds an addressed object inside the caller's organization; None when there is none."""

    async def __call__(self, address: Address) -> Located | None:
        """The object at `address` in the caller's organization, or None."""


@dataclass(frozen=True, slots=True)
class Authorization:
    """The decision, and what was located to reach it (None for a collection or a refusal before lookup)."""

    decision: Decision
    located: Located | None = None


async def authorize(  # noqa: PLR0913, PLR0917 - the request's four facts, how to locate, and the table
    principal: Principal | None,
    resource: Resource,
    action: Action,
    address: Callable[[], Address | None],
    locate: Locator,
    table: PolicyTable = POLICY,
) -> Authorization:
    """Decide a request; `address()` reads what it names (None: the collection as a whole).

    The address is read only once the early decision allows, so a caller who may never do this learns
    nothing from how the id was written either (a client sending a malformed `workspace_id` gets a 403).
    """
    early = decide(principal, resource, action, None, table)
    if not early.allowed:
        return Authorization(early)
    named = address()
    if named is None:
        return Authorization(early)
    located = await locate(named)
    if located is None:
        return Authorization(NOT_FOUND)
    return Authorization(decide(principal, resource, action, located.target, table), located)
