"""`/api/reports` bodies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
SurveyIds = Annotated[list[UUID], msgspec.Meta(max_length=50)]


class ReportCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A report over surveys of the workspace given by `?workspace_id=`."""

    name: Name
    survey_ids: SurveyIds = msgspec.field(default_factory=list)
    config: dict[str, Any] = msgspec.field(default_factory=dict)


class ReportUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A partial change: fields left out stay as they are."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    survey_ids: SurveyIds | msgspec.UnsetType = msgspec.UNSET
    config: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class ReportView(msgspec.Struct, frozen=True):
    """A report."""

    id: UUID
    workspace_id: UUID
    name: str
    survey_ids: list[UUID]
    config: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
