"""`/api/dashboards` and `/api/reports` bodies: named configurations over surveys of one workspace.

A dashboard embeds the live aggregate metrics of its surveys (`widgets` say how to show them); a report keeps
a `config` for members. Both are otherwise the same thing, and share their fields here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec

from tabular.schemas.metrics import SurveyMetrics
from tabular.schemas.rules import Input, Name

SurveyIds = Annotated[list[UUID], msgspec.Meta(max_length=50, description="Surveys of the same workspace, at most 50")]


class _ItemView(msgspec.Struct, frozen=True):
    id: UUID
    workspace_id: UUID
    name: str
    survey_ids: list[UUID]
    created_at: dt.datetime
    updated_at: dt.datetime


class _ItemCreate(Input, frozen=True):
    name: Name
    survey_ids: SurveyIds = msgspec.field(default_factory=list)


class _ItemUpdate(Input, frozen=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    survey_ids: SurveyIds | msgspec.UnsetType = msgspec.UNSET


class DashboardCreate(_ItemCreate, frozen=True):
    """A dashboard over surveys of the workspace given by `?workspace_id=`."""

    widgets: dict[str, Any] = msgspec.field(default_factory=dict)


class ReportCreate(_ItemCreate, frozen=True):
    """A report over surveys of the workspace given by `?workspace_id=`."""

    config: dict[str, Any] = msgspec.field(default_factory=dict)


class DashboardUpdate(_ItemUpdate, frozen=True):
    """A partial change: fields left out stay as they are."""

    widgets: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class ReportUpdate(_ItemUpdate, frozen=True):
    """A partial change: fields left out stay as they are."""

    config: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class DashboardView(_ItemView, frozen=True):
    """A dashboard as listed."""

    widgets: dict[str, Any]


class ReportView(_ItemView, frozen=True):
    """A report."""

    config: dict[str, Any]


class DashboardDetail(DashboardView, frozen=True):
    """A dashboard with the current metrics of its surveys: all a client ever sees of them."""

    metrics: list[SurveyMetrics]
