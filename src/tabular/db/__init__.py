"""The data model: one module per aggregate, all re-exported here for alembic and services."""

from __future__ import annotations

from tabular.db.api_keys import ApiKey
from tabular.db.audit import AuditEvent
from tabular.db.base import metadata
from tabular.db.idempotency import IdempotencyRecord
from tabular.db.items import Dashboard, Report
from tabular.db.organizations import Organization, Tier
from tabular.db.responses import Answer, Response
from tabular.db.revoked_tokens import RevokedToken
from tabular.db.surveys import Question, QuestionKind, Survey, SurveyStatus
from tabular.db.users import RecoveryCode, User
from tabular.db.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tabular.db.workspaces import Workspace, WorkspaceMembership

__all__ = [
    "Answer",
    "ApiKey",
    "AuditEvent",
    "Dashboard",
    "DeliveryStatus",
    "IdempotencyRecord",
    "Organization",
    "Question",
    "QuestionKind",
    "RecoveryCode",
    "Report",
    "Response",
    "RevokedToken",
    "Survey",
    "SurveyStatus",
    "Tier",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "Workspace",
    "WorkspaceMembership",
    "metadata",
]
