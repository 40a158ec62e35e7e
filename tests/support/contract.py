"""A live `tabular serve` on the demo data for the contract tests, and the identities that call it."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

import msgspec
import pyotp

from tests.support.live import call, demo_database, serving
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tabular.demo import DemoData

UNLIMITED = {
    "TABULAR_RATE_LIMIT": "1000000/15m",
    "TABULAR_AUTH_RATE_LIMIT": "1000000/15m",
    "TABULAR_ACCOUNT_RATE_LIMIT": "1000000/15m",
    "TABULAR_ACCESS_LOG": "0",
    "TABULAR_SECRET_KEY": TEST_SECRET,
}
"""A server whose limits never get in the way: thousands of generated requests come from one address; it
holds the key the demo data's TOTP secrets were sealed under."""


@dataclass(frozen=True)
class Live:
    """A running server and the demo data in its database (as `tabular demo --json` printed it)."""

    base_url: str
    demo: dict[str, Any]

    def user(self, role: str) -> dict[str, Any]:
        """The first demo user with `role`."""
        return next(user for user in self.demo["users"] if user["role"] == role)

    def survey(self, title: str) -> dict[str, Any]:
        """The demo survey called `title`."""
        return next(survey for survey in self.demo["surveys"] if survey["title"] == title)


@contextmanager
def live_demo(directory: Path, seeded: tuple[Path, DemoData], **variables: str) -> Iterator[Live]:
    """A copy of the session's seeded demo database in `directory`, served until the block ends."""
    template, data = seeded
    demo_database(directory, template)
    with serving(directory, **variables) as base_url:
        yield Live(base_url, msgspec.to_builtins(data))


def sign_in(live: Live, user: dict[str, Any]) -> str:
    """A session token for `user` (password and a current TOTP code), as `POST /api/auth` sets it in a cookie."""
    body = {"action": "login", "email": user["email"], "password": user["password"]}
    if user.get("totp_secret"):
        body["otp"] = pyotp.TOTP(user["totp_secret"]).now()
    status, headers, answer = call(f"{live.base_url}/api/auth", {}, body)
    assert status == 200, answer
    cookies = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    return cookies["auth_token"].value


def create_key(live: Live, session_token: str, name: str, **scope: Any) -> str:
    """A new API key of the session's user through `POST /api/keys`, down-scoped by `scope`; its secret."""
    headers = {"Authorization": f"Bearer {session_token}"}
    status, _, answer = call(f"{live.base_url}/api/keys", headers, {"name": name, **scope})
    assert status == 201, answer
    secret: str = answer["key"]
    return secret


def identities(live: Live) -> dict[str, dict[str, str]]:
    """The request headers of each identity the contract is checked as: three roles by their demo key,
    two down-scoped keys of the admin (read-only; pinned to one of the two workspaces), and nobody."""
    admin = live.user("admin")
    token = sign_in(live, admin)
    read_only = create_key(live, token, "contract read-only", read_only=True)
    pinned = create_key(live, token, "contract pinned", workspace_id=live.demo["workspaces"][0]["id"])
    return {
        "anonymous": {},
        "client": {"X-API-Key": live.user("client")["api_key"]},
        "read-only-key": {"X-API-Key": read_only},
        "pinned-key": {"X-API-Key": pinned},
        "member": {"X-API-Key": live.user("member")["api_key"]},
        "admin": {"X-API-Key": admin["api_key"]},
    }
