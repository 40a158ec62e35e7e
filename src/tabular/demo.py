"""Demo data: one organization with every kind of user and object, safe to create again."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import msgspec
from sqlalchemy import select

from tabular.db import (
    Answer,
    ApiKey,
    Dashboard,
    Organization,
    Question,
    QuestionKind,
    Report,
    Response,
    Survey,
    SurveyStatus,
    Tier,
    User,
    Workspace,
    WorkspaceMembership,
)
from tabular.schemas.keys import ApiKeyCreate
from tabular.schemas.users import UserCreate
from tabular.schemas.workspaces import WorkspaceWrite
from tabular.services.api_keys import ApiKeyService
from tabular.services.mfa import MfaService
from tabular.services.organizations import OrganizationService
from tabular.services.passwords import PasswordService
from tabular.services.users import UserService
from tabular.services.workspaces import WorkspaceService
from tabular.vocabulary import Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.services.actor import Actor

DEMO_ORGANIZATION: Final = "Demo Research"
RESPONSES_PER_SURVEY: Final = 24
DEMO_KEY_NAME: Final = "demo"


class DemoWorkspace(msgspec.Struct, frozen=True):
    """A demo workspace."""

    id: str
    name: str


class DemoOrganization(DemoWorkspace, frozen=True):
    """The demo tenant: named like a workspace, with its tier."""

    tier: str


class DemoUser(msgspec.Struct, frozen=True):
    """A demo user with the credentials a script needs to act as them."""

    email: str
    password: str
    role: str
    workspace_ids: list[str]
    totp_secret: str
    api_key: str


class DemoSurvey(msgspec.Struct, frozen=True):
    """A demo survey."""

    id: str
    workspace_id: str
    title: str


class DemoData(msgspec.Struct, frozen=True):
    """What `tabular demo --json` prints."""

    organization: DemoOrganization
    workspaces: list[DemoWorkspace]
    users: list[DemoUser]
    surveys: list[DemoSurvey]


@dataclass(frozen=True)
class _UserSpec:
    email: str
    name: str
    role: Role
    workspaces: tuple[int, ...]


@dataclass(frozen=True)
class _SurveySpec:
    workspace: int
    title: str
    status: SurveyStatus
    responses: int


_WORKSPACES: Final = ("Customer Insights", "Product Research")
_USERS: Final = (
    _UserSpec("admin@demo.tabular.test", "Ada Admin", Role.ADMIN, (0, 1)),
    _UserSpec("member1@demo.tabular.test", "Mia Member", Role.MEMBER, (0,)),
    _UserSpec("member2@demo.tabular.test", "Max Member", Role.MEMBER, (1,)),
    _UserSpec("client@demo.tabular.test", "Cleo Client", Role.CLIENT, (0,)),
)
_SURVEYS: Final = (
    _SurveySpec(0, "Customer satisfaction 2026", SurveyStatus.PUBLISHED, RESPONSES_PER_SURVEY),
    _SurveySpec(0, "Onboarding feedback", SurveyStatus.DRAFT, 0),
    _SurveySpec(1, "Feature priorities", SurveyStatus.PUBLISHED, RESPONSES_PER_SURVEY),
    _SurveySpec(1, "Beta exit survey", SurveyStatus.CLOSED, RESPONSES_PER_SURVEY // 2),
)
_QUESTIONS: Final[tuple[dict[str, Any], ...]] = (
    {"kind": QuestionKind.RATING, "text": "How satisfied are you overall?", "scale": 5, "required": True},
    {
        "kind": QuestionKind.SINGLE_CHOICE,
        "text": "How did you hear about us?",
        "choices": ["Search", "A colleague", "Conference", "Other"],
        "required": True,
    },
    {
        "kind": QuestionKind.MULTIPLE_CHOICE,
        "text": "Which features do you use?",
        "choices": ["Dashboards", "Reports", "API", "Exports"],
    },
    {"kind": QuestionKind.TEXT, "text": "Anything else you would like to tell us?"},
)


async def demo_exists(session: AsyncSession) -> bool:
    """Whether an earlier run made the demo organization (seeding again ends what that run handed out)."""
    return await session.scalar(select(Organization.id).where(Organization.name == DEMO_ORGANIZATION)) is not None


async def seed_demo(actor: Actor) -> DemoData:
    """Create the demo organization, or bring it back to its demo state; fresh passwords each run.

    Organizations, workspaces, users and keys are made by the services, as an operator, so the demo obeys
    the API's rules and leaves the same audit trail; surveys and their backdated responses are written as
    rows (no API makes a response of last week).
    """
    session = actor.session
    organization = await OrganizationService(actor).get_or_create(DEMO_ORGANIZATION, Tier.PRO)
    workspaces = [await _ensure_workspace(actor, organization, name) for name in _WORKSPACES]
    users = [await _ensure_user(actor, organization, spec, workspaces) for spec in _USERS]
    admin = users[0][0]
    surveys = [await _ensure_survey(session, spec, workspaces[spec.workspace], admin) for spec in _SURVEYS]
    await _ensure_dashboard_and_report(session, workspaces, surveys, admin)
    return DemoData(
        organization=DemoOrganization(id=str(organization.id), name=organization.name, tier=organization.tier.value),
        workspaces=[DemoWorkspace(id=str(workspace.id), name=workspace.name) for workspace in workspaces],
        users=[
            DemoUser(
                email=user.email,
                password=password,
                role=user.role.value,
                workspace_ids=[str(workspaces[index].id) for index in spec.workspaces],
                totp_secret=secret,
                api_key=api_key,
            )
            for (user, password, secret, api_key), spec in zip(users, _USERS, strict=True)
        ],
        surveys=[DemoSurvey(id=str(s.id), workspace_id=str(s.workspace_id), title=s.title) for s in surveys],
    )


async def _ensure_workspace(actor: Actor, organization: Organization, name: str) -> Workspace:
    found = select(Workspace).where(Workspace.organization_id == organization.id, Workspace.name == name)
    if (workspace := await actor.session.scalar(found)) is None:
        created = await WorkspaceService(actor).create(WorkspaceWrite(name=name), organization_id=organization.id)
        workspace = await actor.session.get_one(Workspace, created.id)  # in the session already: no query
    return workspace


async def _ensure_user(
    actor: Actor, organization: Organization, spec: _UserSpec, workspaces: list[Workspace]
) -> tuple[User, str, str, str]:
    """The user in its demo state: its password (new), TOTP secret (kept when it can be read) and key (new)."""
    session, users = actor.session, UserService(actor)
    password = secrets.token_urlsafe(12)
    wanted = [workspaces[index].id for index in spec.workspaces]
    user = await users.by_email(spec.email, organization.id)
    if user is None:
        body = UserCreate(email=spec.email, name=spec.name, role=spec.role, password=password, workspace_ids=wanted)
        created = await users.create(body, organization_id=organization.id)
        user = await session.get_one(User, created.id)  # in the session already: no query
    else:  # back to its demo state, with a fresh password
        user.role, user.is_active, user.organization_id = spec.role, True, organization.id
        user.password_hash = await PasswordService(actor).hash(user.email, password)
        user.token_version += 1
        present = set(
            await session.scalars(
                select(WorkspaceMembership.workspace_id).where(WorkspaceMembership.user_id == user.id)
            )
        )
        session.add_all(WorkspaceMembership(workspace_id=w, user_id=user.id) for w in wanted if w not in present)
    secret = await MfaService(actor).enrol_by_operator(user)
    await session.flush()
    return user, password, secret, await _fresh_key(actor, user)


async def _fresh_key(actor: Actor, user: User) -> str:
    """Revoke the key an earlier run made and issue a new one, so the printed key always works."""
    keys = ApiKeyService(actor)
    for key in await actor.session.scalars(
        select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.name == DEMO_KEY_NAME, ApiKey.revoked_at.is_(None))
    ):
        await keys.revoke(key)
    created = await keys.create(ApiKeyCreate(name=DEMO_KEY_NAME), for_user=user.id)
    return created.key


async def _ensure_survey(session: AsyncSession, spec: _SurveySpec, workspace: Workspace, author: User) -> Survey:
    existing = await session.scalar(
        select(Survey).where(Survey.workspace_id == workspace.id, Survey.title == spec.title)
    )
    if existing is not None:
        return existing
    survey = Survey(
        workspace_id=workspace.id,
        created_by_id=author.id,
        title=spec.title,
        description=f"Demo survey in {workspace.name}.",
        status=spec.status,
        questions=[Question(position=index, **question) for index, question in enumerate(_QUESTIONS)],
    )
    session.add(survey)
    await session.flush()
    rng = random.Random(spec.title)  # noqa: S311 - reproducible demo answers, not a secret
    session.add_all(_response(rng, survey, number) for number in range(spec.responses))
    await session.flush()
    return survey


def _response(rng: random.Random, survey: Survey, number: int) -> Response:
    """One plausible response; every third carries respondent PII, as real imports do."""
    rating, source, features, comment = survey.questions
    answers = [Answer(question_id=rating.id, rating=rng.randint(2, 5))]
    if number % 5 != 4:  # noqa: PLR2004 - one in five stops after the first question
        answers.append(Answer(question_id=source.id, choice=rng.choice(source.choices or [])))
        answers += [Answer(question_id=features.id, choice=c) for c in rng.sample(features.choices or [], k=2)]
        if number % 3 == 0:
            answers.append(Answer(question_id=comment.id, text=f"Respondent {number}: keep it up."))
    submitted = dt.datetime.now(dt.UTC) - dt.timedelta(days=number % 14, hours=rng.randint(0, 23))
    pii = number % 3 == 0
    return Response(
        survey_id=survey.id,
        completed=number % 5 != 4,  # noqa: PLR2004
        respondent_name=f"Respondent {number}" if pii else None,
        respondent_email=f"respondent{number}@example.com" if pii else None,
        answers=answers,
        created_at=submitted,
        updated_at=submitted,
    )


async def _ensure_dashboard_and_report(
    session: AsyncSession, workspaces: list[Workspace], surveys: list[Survey], author: User
) -> None:
    """A dashboard over the first workspace's surveys and a report over the second's, unless there already are."""
    first, second = workspaces
    items = (
        Dashboard(
            workspace_id=first.id,
            name="Satisfaction overview",
            widgets={"layout": "grid", "charts": ["rating_histogram", "per_day"]},
        ),
        Report(
            workspace_id=second.id,
            name="Quarterly product research",
            config={"period": "quarter", "sections": ["summary", "distributions"]},
        ),
    )
    for item in items:
        model = type(item)
        if await session.scalar(select(model.id).where(model.workspace_id == item.workspace_id)) is None:
            item.created_by_id = author.id
            item.survey_ids = [str(s.id) for s in surveys if s.workspace_id == item.workspace_id]
            session.add(item)
    await session.flush()
