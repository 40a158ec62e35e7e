"""Request bodies decoded straight from their bytes into the handler's typed Struct.

Litestar decodes a JSON body into generic Python objects first and converts those to the handler's type
after: a 1 MiB `{"answers": [{}, {}, …]}` became some 350,000 dicts (25 MB) before a single field was
checked. Here the body's bytes go to `msgspec.json.decode(…, type=…)` once, which refuses at the first
value that breaks the type, so memory follows what is valid, not what was sent. It is also one decode
instead of two. A body is strict JSON: `"5"` is not a number, as the OpenAPI document says.

Litestar's signature model then receives the finished Struct and passes it through unchanged; the errors
are raised in the form it would raise them, so `errors.py` renders them as it renders any other.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException, ValidationException
from litestar.types import Empty


class TypedBodyRequest(Request[Any, Any, Any]):
    """`Request.json()` with the handler's `data` type as the decoder's target."""

    async def json(self) -> Any:  # noqa: ANN401 - Litestar's signature: a body may be of any type
        """The body, decoded into the type of the handler's `data` parameter (or generic JSON without one)."""
        if self._json is Empty and self._connection_state.json is Empty:
            target = _body_type(self)
            if target is not None:
                self._json = self._connection_state.json = _decode(await self.body() or b"null", target, self)
        return await super().json()


def _body_type(request: Request[Any, Any, Any]) -> Any:  # noqa: ANN401 - a handler's `data` may be any type
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    return None if parameter is None else parameter.annotation


def _decode(body: bytes, target: Any, request: Request[Any, Any, Any]) -> Any:  # noqa: ANN401 - as above
    try:
        return msgspec.json.decode(body, type=target)
    except msgspec.ValidationError as exc:
        text = str(exc)
        message, at, where = text.rpartition(" - at `$")
        if not at:  # the body itself, not a field in it
            message, where = text, ""
        place = where.rstrip("`").lstrip(".")
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[{"message": message, "key": place or "data", "source": "body"}],
        ) from exc
    except msgspec.DecodeError as exc:  # not JSON at all: Litestar answers these 400, as before
        raise SerializationException(str(exc)) from exc
