"""The credential backend contract, and the authenticator that runs the registered backends in order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tabular.auth.principal import AuthFailure
from tabular.telemetry import AUTHENTICATIONS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from litestar.connection import ASGIConnection

    from tabular.auth.principal import Principal


class InvalidCredential(Exception):
    """The backend recognised its kind of credential in the request, and it is not acceptable."""

    def __init__(self, code: str, status: int = 401, detail: str | None = None) -> None:
        super().__init__(code)
        self.failure = AuthFailure(code, status) if detail is None else AuthFailure(code, status, detail)


class AuthBackend(Protocol):
    """One way a credential travels and is checked; adding one (say OIDC) touches no route."""

    name: str

    async def authenticate(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
        """A Principal; None when the request carries no credential of this kind; `InvalidCredential` otherwise."""
        ...


class Authenticator:
    """Asks each backend in turn; the first that recognises a credential decides."""

    def __init__(self, backends: Sequence[AuthBackend]) -> None:
        self.backends = tuple(backends)
        self._accepted = {backend.name: AUTHENTICATIONS.labels(backend.name, "ok") for backend in self.backends}
        self._anonymous = AUTHENTICATIONS.labels("none", "anonymous")

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> tuple[Principal | None, AuthFailure | None]:
        """(principal, None), (None, failure) for rejected credentials, or (None, None) for none at all."""
        for backend in self.backends:
            try:
                principal = await backend.authenticate(connection)
            except InvalidCredential as rejected:
                AUTHENTICATIONS.labels(backend.name, rejected.failure.code).inc()
                return None, rejected.failure
            if principal is not None:
                self._accepted[backend.name].inc()
                return principal, None
        self._anonymous.inc()
        return None, None


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an `Authorization: Bearer …` header, if there is one."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
