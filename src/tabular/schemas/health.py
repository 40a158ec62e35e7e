"""Liveness and readiness bodies."""

from __future__ import annotations

from typing import Literal

import msgspec

CheckState = Literal["ok", "down", "not_configured"]


class Health(msgspec.Struct, frozen=True):
    """The process is up and serving."""

    status: Literal["ok"] = "ok"


class Readiness(msgspec.Struct, frozen=True):
    """Whether each backing service answers; any `down` makes the response 503."""

    status: Literal["ready", "unavailable"]
    database: CheckState
    redis: CheckState
