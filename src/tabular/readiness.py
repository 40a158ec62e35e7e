"""What each backing service was last seen to be, so that only a change of state reaches the log.

A leaf module: the readiness probe (`services.health`) and the database engine (`db.outage`) share one.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tabular.schemas.health import CheckState

logger = logging.getLogger(__name__)


class StateChanges:
    """The last state of each backing service, so only a change is logged: once down, once back (with how long).

    One per app, shared by the readiness probe (the database and Redis) and the database engine (`db.outage`):
    whoever meets the outage first says so, and nobody repeats it.
    """

    def __init__(self) -> None:
        self._states: dict[str, CheckState] = {}
        self._down_since: dict[str, float] = {}

    def note(self, service: str, state: CheckState, error: BaseException | None = None) -> CheckState:
        """Record `state`; log it if it differs from the last one (a service starts out presumed `ok`)."""
        before = self._states.get(service, "ok")
        if state == before:
            return state
        self._states[service] = state
        if state == "down":
            self._down_since[service] = time.monotonic()
            reason = "no answer" if error is None else type(error).__name__ + (f": {error}" if str(error) else "")
            logger.warning("%s is down (%s)", service, reason)
        elif before == "down":
            lasted = time.monotonic() - self._down_since.pop(service)
            logger.warning("%s answers again, after %.1f s", service, lasted)
        return state
