"""Policy test files: a world and the requests its people must and must not be able to make, checked offline.

A file (YAML) declares a world — workspaces, users with their role and memberships, objects placed in
workspaces or owned by users, some in another organization — or names one (`world: demo`, the organization
`tabular demo` creates, read from the configured database: `policies/demo_world.py`), and cases:

    - as: "max read_only pinned:north"        # a user (or a role: the world's first user of it), then how they
      request: "DELETE /api/surveys/{north_survey}"   # call: session (default), no_mfa, key, read_only, pinned:WS
      expect: "403 read_only_key"             # allow | STATUS | STATUS CODE

`{name}` in a request is the id of that workspace, user or object; `{missing}` an id nothing has. Each case is
decided by `check` — the guard's steps and the one decision function — with the world as its locator, on the
application's real routes: no HTTP, and no database but the demo world's, which is only read.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, Protocol

import msgspec

from tabular.auth.identities import Identity
from tabular.auth.subjects import CredentialShape, key_refusal, session_refusal
from tabular.db import Tier
from tabular.policies.authorize import Located
from tabular.policies.check import Verdict, check
from tabular.policies.decision import Target
from tabular.policies.placement import PLACEMENTS, Level
from tabular.vocabulary import CredentialKind, Resource, Role

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar import Litestar

    from tabular.auth.principal import AuthFailure, Principal
    from tabular.policies.authorize import Address, Locator

_NAMESPACE: Final = uuid.UUID("5d6c3f7e-3b7a-4c1e-9a57-0c4b3f1d2e10")
HOME: Final = uuid.uuid5(_NAMESPACE, "organization:home")
OTHER: Final = uuid.uuid5(_NAMESPACE, "organization:other")
MISSING: Final = uuid.uuid5(_NAMESPACE, "missing")
_PLACEHOLDER: Final = re.compile(r"\{([\w.-]+)\}")


class PolicyTestError(ValueError):
    """The file is not a valid policy test file; the message says where."""


class UserSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A person of the world: their role, the workspaces they belong to, second factor and standing."""

    role: Role
    workspaces: list[str] = []
    mfa: bool = True
    active: bool = True


class ObjectSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Something a request can name, placed as its resource is placed."""

    resource: Resource
    workspace: str | None = None
    """Where workspace data is (a workspace of `workspaces` or `other_workspaces`)."""
    owner: str | None = None
    """Whose it is, for what users own (API keys)."""
    organization: Literal["home", "other"] = "home"
    """For organization-level objects (users): the world's organization or another one."""


class WorldSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who and what exists: one organization (on `tier`), and another one for what must stay out of reach."""

    tier: Tier = Tier.PRO
    workspaces: list[str] = []
    other_workspaces: list[str] = []
    """Workspaces of another organization."""
    users: dict[str, UserSpec] = {}
    objects: dict[str, ObjectSpec] = {}


class Case(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One request a subject makes, and the answer the guard must give."""

    subject: str = msgspec.field(name="as")
    request: str
    expect: str | int
    """`allow`, a status (`404`), or a status and a reason code (`403 not_a_member`)."""
    name: str | None = None


class PolicyTestFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A world (declared, or named: `demo`) and its cases."""

    world: WorldSpec | Literal["demo"]
    cases: list[Case]


class Named(Protocol):
    """A world cases run in: who an `as:` names, what a request's `{name}`s are, and how objects are found."""

    def url(self, request: str) -> tuple[str, str]:
        """METHOD and URL of a case's `request`, its `{name}`s replaced by ids."""
        ...

    async def caller(self, words: str) -> Principal | AuthFailure:
        """The caller an `as:` names."""
        ...

    def locator(self, organization_id: uuid.UUID) -> Locator:
        """Finds objects inside `organization_id` only."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """A case and what the guard answered; `passed` when that is what the case expects."""

    number: int
    case: Case
    verdict: Verdict
    passed: bool


def load(text: str | bytes) -> PolicyTestFile:
    """A test file from its YAML text."""
    try:
        return msgspec.yaml.decode(text, type=PolicyTestFile)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise PolicyTestError(str(error)) from None


class World:
    """The file's world, made into identities, ids and placed targets, and the locator over them."""

    def __init__(self, spec: WorldSpec) -> None:
        self.spec = spec
        self.ids = {name: _id(name) for name in [*spec.workspaces, *spec.other_workspaces, *spec.users, *spec.objects]}
        if len(self.ids) != len(spec.workspaces) + len(spec.other_workspaces) + len(spec.users) + len(spec.objects):
            raise PolicyTestError("a name is used twice among workspaces, users and objects")
        self.ids["missing"] = MISSING
        self.targets: dict[tuple[Resource, uuid.UUID], Target] = {}
        for name in spec.workspaces + spec.other_workspaces:
            organization = HOME if name in spec.workspaces else OTHER
            self.targets[Resource.WORKSPACE, self.ids[name]] = Target(organization, workspace_id=self.ids[name])
        for name in spec.users:
            self.targets[Resource.USER, self.ids[name]] = Target(HOME)
            self.targets[Resource.ACCOUNT, self.ids[name]] = Target(HOME, owner_id=self.ids[name])
        for name, thing in spec.objects.items():
            self.targets[thing.resource, self.ids[name]] = self._place(name, thing)

    def _place(self, name: str, thing: ObjectSpec) -> Target:
        placement = PLACEMENTS[thing.resource]
        if placement.level is Level.OWNER:
            if thing.owner not in self.spec.users:
                raise PolicyTestError(f"object {name}: a {thing.resource} needs an `owner`, one of the users")
            return Target(HOME, owner_id=self.ids[thing.owner])
        if placement.workspace is None:
            return Target(HOME if thing.organization == "home" else OTHER)
        if thing.workspace is None or thing.workspace not in self.spec.workspaces + self.spec.other_workspaces:
            raise PolicyTestError(f"object {name}: a {thing.resource} needs a `workspace`, one of the workspaces")
        organization = HOME if thing.workspace in self.spec.workspaces else OTHER
        return Target(organization, workspace_id=self.ids[thing.workspace])

    def locator(self, organization_id: uuid.UUID) -> WorldLookup:
        """Finds the world's objects inside `organization_id` only, as the database's lookup does."""
        return WorldLookup(self, organization_id)

    async def caller(self, words: str) -> Principal | AuthFailure:
        """The caller an `as:` names: a user or role, then how they call."""
        name, *how = words.split()
        if name not in self.spec.users:
            name = next((n for n, u in self.spec.users.items() if u.role.value == name), name)
        if name not in self.spec.users:
            raise PolicyTestError(f"as: {words!r}: {name!r} is neither a user of the world nor a role one of them has")
        user = self.spec.users[name]
        identity = Identity(
            user_id=self.ids[name], organization_id=HOME, role=user.role,
            workspace_ids=frozenset(self._workspace(w) for w in user.workspaces), is_active=user.active,
            token_version=0, mfa_enabled=user.mfa, tier=self.spec.tier, name=name,
            email=f"{name}@policy-test.invalid", organization_name="policy test",
        )  # fmt: skip
        shape = credential(words, how, self._workspace, key_id=_id(words))
        refusal = key_refusal(identity) if shape.is_key else session_refusal(identity)
        return refusal or shape.principal(identity)

    def _workspace(self, name: str) -> uuid.UUID:
        if name not in self.spec.workspaces + self.spec.other_workspaces:
            raise PolicyTestError(f"no workspace {name!r} in the world")
        return self.ids[name]

    def url(self, request: str) -> tuple[str, str]:
        """METHOD and URL of a case's `request`, its `{name}`s replaced by ids."""

        def find(name: str) -> uuid.UUID:
            if name not in self.ids:
                raise PolicyTestError(f"request {request!r}: nothing in the world is called {name!r}")
            return self.ids[name]

        return request_url(request, find)


def credential(
    words: str, how: list[str], workspace: Callable[[str], uuid.UUID], key_id: uuid.UUID | None = None
) -> CredentialShape:
    """How the subject of `as: words` calls, from the words after its name (`how`); `workspace` reads a pin."""
    key = any(word in {"key", "read_only"} or word.startswith("pinned:") for word in how)
    unknown = [w for w in how if w not in {"session", "no_mfa", "key", "read_only"} and not w.startswith("pinned:")]
    if unknown or (key and ("session" in how or "no_mfa" in how)):
        raise PolicyTestError(f"as: {words!r}: say session [no_mfa], or key [read_only] [pinned:WORKSPACE]")
    if key:
        pinned = [workspace(word.removeprefix("pinned:")) for word in how if word.startswith("pinned:")]
        pin = pinned[0] if pinned else None
        return CredentialShape(CredentialKind.API_KEY, read_only="read_only" in how, pinned_workspace_id=pin,
                               key_id=key_id)  # fmt: skip
    return CredentialShape(mfa_verified=False if "no_mfa" in how else None)


def request_url(request: str, find: Callable[[str], uuid.UUID]) -> tuple[str, str]:
    """METHOD and URL of `request`, each `{name}` replaced by the id `find(name)` gives (or refuses with)."""
    method, _, url = request.strip().partition(" ")
    return method, _PLACEHOLDER.sub(lambda found: str(find(found.group(1))), url.strip())


@dataclass(frozen=True, slots=True)
class WorldLookup:
    """The world's locator: the object of that resource and id, if it is in the caller's organization."""

    world: World
    organization_id: uuid.UUID

    async def __call__(self, address: Address) -> Located | None:
        """The placed object at `address`, or None (missing, or another organization's)."""
        target = self.world.targets.get((address.resource, address.id))
        return None if target is None or target.organization_id != self.organization_id else Located(target)


def expected(case: Case, verdict: Verdict) -> bool:
    """Whether `verdict` is what `case` expects: `allow`, a status, or a status and reason code."""
    wanted = str(case.expect).split()
    if wanted == ["allow"]:
        return verdict.allowed
    if not wanted or not wanted[0].isdigit() or len(wanted) > 2:  # noqa: PLR2004 - a status and a code at most
        raise PolicyTestError(f"expect: {case.expect!r}: say allow, STATUS, or STATUS CODE")
    return not verdict.allowed and verdict.status == int(wanted[0]) and wanted[1:] in ([], [verdict.code])


async def run(app: Litestar, cases: list[Case], world: Named) -> list[Outcome]:
    """Every case, in `world`, decided against `app`'s routes and the live decision function."""
    outcomes = []
    for number, case in enumerate(cases, start=1):
        try:
            method, url = world.url(case.request)
            verdict = await check(app, method, url, await world.caller(case.subject), world.locator)
            outcomes.append(Outcome(number, case, verdict, expected(case, verdict)))
        except PolicyTestError as error:
            raise PolicyTestError(f"case {number}: {error}") from None
    return outcomes


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, name)
