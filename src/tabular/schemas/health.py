"""Liveness and readiness bodies."""

from __future__ import annotations

from typing import Literal

import msgspec

LimiterMode = Literal["in_process", "redis", "in_process_fallback"]
"""Which counters admit requests: this process's, Redis's, or this process's while Redis is down."""


CheckState = Literal["ok", "down", "not_configured"]


class Health(msgspec.Struct, frozen=True):
    """The process is up and serving."""

    status: Literal["ok"] = "ok"


ReadinessStatus = Literal["ready", "degraded", "unavailable"]


class Readiness(msgspec.Struct, frozen=True):
    """Whether each backing service answers.

    The database down makes the answer 503 (`unavailable`). Redis down is `degraded` but still 200: rate
    limits fall back to per-process counters and nothing else needs Redis, so taking every instance out
    of rotation because a shared Redis is down would turn a degradation into an outage.
    """

    status: ReadinessStatus
    database: CheckState
    redis: CheckState
    limiter: LimiterMode
