"""`/api/dashboards` bodies: a dashboard embeds the live aggregate metrics of its surveys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec

from tabular.schemas.metrics import SurveyMetrics

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
SurveyIds = Annotated[list[UUID], msgspec.Meta(max_length=50)]


class DashboardCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A dashboard over surveys of the workspace given by `?workspace_id=`."""

    name: Name
    survey_ids: SurveyIds = msgspec.field(default_factory=list)
    widgets: dict[str, Any] = msgspec.field(default_factory=dict)


class DashboardUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A partial change: fields left out stay as they are."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    survey_ids: SurveyIds | msgspec.UnsetType = msgspec.UNSET
    widgets: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class DashboardView(msgspec.Struct, frozen=True):
    """A dashboard as listed."""

    id: UUID
    workspace_id: UUID
    name: str
    survey_ids: list[UUID]
    widgets: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class DashboardDetail(msgspec.Struct, frozen=True):
    """A dashboard with the current metrics of its surveys: all a client ever sees of them."""

    id: UUID
    workspace_id: UUID
    name: str
    survey_ids: list[UUID]
    widgets: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    metrics: list[SurveyMetrics]
