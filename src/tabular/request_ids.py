"""Each request's id: decided once, by the outermost middleware, then read from the scope by whatever answers.

The access log writes it, `X-Request-ID` returns it and every problem document carries it, so a client's
report, the log line and the answer name the same request. A caller's `X-Request-ID` is believed only when
it comes through a trusted proxy (one that makes or checks ids) and is 1-64 characters of `[A-Za-z0-9._-]`;
anyone else could write an id that collides with another request's, or forge a line in the log.
"""

from __future__ import annotations

import itertools
import re
import secrets
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from litestar.types import Scope

HEADER: Final = b"x-request-id"
SCOPE_KEY: Final = "tabular.request_id"
_VALID: Final = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_PROCESS_PREFIX: Final = secrets.token_hex(10)
_SEQUENCE: Final = itertools.count(1)


def assign(scope: Scope, *, from_proxy: bool) -> str:
    """Decide the request's id and keep it in the scope: the proxy's valid `X-Request-ID`, or a new one.

    A new id is this process's random prefix and a counter: unique without a random draw per request.
    """
    found = None
    if from_proxy:
        for name, value in scope["headers"]:
            if name == HEADER:
                found = value.decode() if _VALID.fullmatch(value) else None
                break
    request_id = found or f"{_PROCESS_PREFIX}{next(_SEQUENCE):012x}"
    scope[SCOPE_KEY] = request_id  # type: ignore[typeddict-unknown-key]
    return request_id


def request_id(scope: Scope) -> str:
    """The id decided for this request; a new one for an app built without `create_app`'s access log middleware."""
    found = scope.get(SCOPE_KEY)
    return found if isinstance(found, str) else assign(scope, from_proxy=False)
