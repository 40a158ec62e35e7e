"""Factories for the data model: rows inserted straight into a session, never through a service.

Each takes the session and what the new row belongs to, fills the rest with unique defaults, flushes (so
the row has its id) and returns it; the caller's transaction commits. Passwords are real argon2 hashes,
made once per password and test run (argon2 is slow on purpose; every sign-in still verifies for real).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from tabular.auth.api_key_backend import generate_key
from tabular.auth.passwords import hash_password
from tabular.db import (
    Answer,
    ApiKey,
    AuditEvent,
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
    WebhookEndpoint,
    WebhookEvent,
    Workspace,
    WorkspaceMembership,
)
from tabular.db.audit import AuditEventType, record
from tabular.db.base import utcnow
from tabular.vocabulary import Role
from tests.support.settings import TEST_AT_REST

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_QUESTIONS: Final[tuple[dict[str, Any], ...]] = (
    {"kind": QuestionKind.SINGLE_CHOICE, "text": "Pick one", "choices": ["A", "B"], "required": True},
    {"kind": QuestionKind.RATING, "text": "Rate us", "scale": 5},
)
"""The questions of a survey made without any: one choice, one rating."""

T = TypeVar("T")

_hashes: dict[str, str] = {}


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


async def password_hash(password: str) -> str:
    """The argon2id hash of `password`, made once per test run."""
    if password not in _hashes:
        _hashes[password] = await hash_password(password, using=TEST_AT_REST.password_hasher)
    return _hashes[password]


async def _added(session: AsyncSession, row: T) -> T:
    session.add(row)
    await session.flush()
    return row


async def new_organization(session: AsyncSession, *, name: str | None = None, tier: Tier = Tier.PRO) -> Organization:
    """An organization on a paid tier (API keys need one) unless `tier` says otherwise."""
    return await _added(session, Organization(name=name or _unique("Organization"), tier=tier))


async def new_user(  # noqa: PLR0913 - the columns a test sets by name
    session: AsyncSession,
    organization: Organization,
    *,
    email: str | None = None,
    name: str = "Test User",
    role: Role = Role.MEMBER,
    password: str | None = None,
    totp_secret: str | None = None,
    **columns: Any,
) -> User:
    """An active user; `password=None` is an invited user without one, `totp_secret` turns MFA on (stored
    sealed, as the test applications read it)."""
    if password is not None:
        columns.setdefault("password_hash", await password_hash(password))
    if totp_secret is not None:
        columns.setdefault("mfa_enabled_at", utcnow())
    user = User(
        organization_id=organization.id,
        email=(email or f"{uuid.uuid4().hex}@example.test").strip().lower(),
        name=name,
        role=role,
        **columns,
    )
    await _added(session, user)
    if totp_secret is not None:  # sealed for this user's id, which the flush gave it
        user.totp_secret = TEST_AT_REST.seal(totp_secret, user.id)
        await session.flush()
    return user


async def new_membership(session: AsyncSession, workspace: Workspace, user: User) -> WorkspaceMembership:
    return await _added(session, WorkspaceMembership(workspace_id=workspace.id, user_id=user.id))


async def new_workspace(
    session: AsyncSession, organization: Organization, *members: User, name: str | None = None
) -> Workspace:
    """A workspace of the organization with `members` in it."""
    workspace = await _added(session, Workspace(organization_id=organization.id, name=name or _unique("Workspace")))
    for member in members:
        await new_membership(session, workspace, member)
    return workspace


async def new_survey(  # noqa: PLR0913 - the columns a test sets by name
    session: AsyncSession,
    workspace: Workspace,
    *,
    title: str = "Test survey",
    status: SurveyStatus = SurveyStatus.PUBLISHED,
    questions: tuple[dict[str, Any], ...] | list[dict[str, Any]] = DEFAULT_QUESTIONS,
    created_by: User | None = None,
    **columns: Any,
) -> Survey:
    """A survey (published unless `status` says otherwise) with `questions` in their order."""
    survey = Survey(
        workspace_id=workspace.id,
        title=title,
        status=status,
        created_by_id=created_by.id if created_by else None,
        questions=[Question(position=position, **question) for position, question in enumerate(questions)],
        **columns,
    )
    return await _added(session, survey)


async def new_response(
    session: AsyncSession, survey: Survey, answers: dict[UUID, dict[str, Any]] | None = None, **columns: Any
) -> Response:
    """A completed response; `answers` maps a question id to the Answer's columns (`{"rating": 4}`)."""
    response = Response(
        survey_id=survey.id,
        answers=[Answer(question_id=question_id, **value) for question_id, value in (answers or {}).items()],
        **columns,
    )
    return await _added(session, response)


async def new_dashboard(session: AsyncSession, workspace: Workspace, *, name: str = "Test dashboard") -> Dashboard:
    return await _added(session, Dashboard(workspace_id=workspace.id, name=name))


async def new_report(session: AsyncSession, workspace: Workspace, *, name: str = "Test report") -> Report:
    return await _added(session, Report(workspace_id=workspace.id, name=name))


async def new_webhook_endpoint(
    session: AsyncSession, workspace: Workspace, *, url: str = "https://93.184.216.34/hook"
) -> WebhookEndpoint:
    events = [event.value for event in WebhookEvent]
    return await _added(session, WebhookEndpoint(workspace_id=workspace.id, url=url, events=events, secret_salt="salt"))


async def new_api_key(
    session: AsyncSession, owner: User, *, name: str = "test key", **scope: Any
) -> tuple[ApiKey, str]:
    """A key acting as `owner` (down-scoped by `scope`: read_only, workspace_id, expires_at) and its secret."""
    new = generate_key()
    key = ApiKey(user_id=owner.id, name=name, key_hash=new.key_hash, prefix=new.prefix, **scope)
    return await _added(session, key), new.secret


async def new_audit_event(
    session: AsyncSession, event: AuditEventType, organization: Organization, actor: User | None = None, **fields: Any
) -> AuditEvent:
    """An event appended to the one hash chain, as the application appends it."""
    actor_id = actor.id if actor else None
    return await record(session, event, organization_id=organization.id, actor_user_id=actor_id, **fields)


@dataclass(frozen=True)
class Tenant:
    """Another organization: an admin in a workspace named like one of the demo's, that workspace's creation
    in the audit trail, and a published survey in it."""

    organization_id: UUID
    user_id: UUID
    workspace_id: UUID
    survey_id: UUID


async def new_tenant(session: AsyncSession) -> Tenant:
    """Another organization beside the demo one, holding one of everything a cross-tenant test names."""
    organization = await new_organization(session, name="Elsewhere Inc")
    admin = await new_user(session, organization, email="boss@elsewhere.test", name="Other Boss", role=Role.ADMIN)
    workspace = await new_workspace(session, organization, admin, name="Customer Insights")
    await new_audit_event(
        session,
        AuditEventType.WORKSPACE_CREATED,
        organization,
        admin,
        target_type="workspace",
        target_id=workspace.id,
        data={"name": workspace.name},
    )
    survey = await new_survey(
        session,
        workspace,
        title="Someone else's survey",
        questions=[{"kind": QuestionKind.RATING, "text": "Rate us", "scale": 5, "required": True}],
    )
    return Tenant(organization.id, admin.id, workspace.id, survey.id)
