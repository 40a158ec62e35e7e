"""Attack: read the secrets out of the server's logs (a log shipper, a shared terminal, a support ticket).

A live `tabular serve`, configured as shipped (access log on), with everything it writes to standard output
and standard error captured, goes through every flow that issues or takes a secret: sign-ins (right, wrong,
with a TOTP code and a recovery code), API keys made and rotated, a user invited with a set-password token
who sets a password, enrols in MFA, regenerates recovery codes, changes the password and signs out, and
credentials sent where they do not belong (a key in the query string, refused tokens). Then the captured
output is searched for every secret that went by. A canary (an `X-Request-ID` the access log records by
design, when a trusted proxy sends it) proves the search reads what the server wrote, so the test fails
when a secret is written.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

import pyotp

from tests.support.clients import user
from tests.support.live import call, demo_database, serving
from tests.support.mfa import Authenticator
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from pathlib import Path

    from tabular.demo import DemoData

VARIABLES = {
    "TABULAR_SECRET_KEY": TEST_SECRET,
    "TABULAR_AUTH_RATE_LIMIT": "1000/15m",
    "TABULAR_TRUSTED_PROXIES": "127.0.0.1/32",
}
"""As shipped but for the server secret the demo data was sealed under, room for the campaign's sign-ins
from one address, and loopback trusted as a proxy: the canary is an `X-Request-ID`, which the server
believes only from a trusted proxy."""


@dataclass
class Campaign:
    """Requests to the live server, and every secret they issued or carried, by what it is."""

    base: str
    secrets: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def keep(self, what: str, secret: str) -> str:
        assert len(secret) >= 8, f"{what}: too short to search for without false alarms"
        self.secrets[what] = secret
        return secret

    def send(self, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any, Any]:
        self.requests += 1
        return call(
            f"{self.base}{path}", {name.replace("_", "-"): value for name, value in headers.items()}, body, method
        )

    def ok(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        status, _, answer = self.send(method, path, body, **headers)
        assert 200 <= status < 300, (method, path, status, answer)
        return answer

    def signed_in(self, what: str, body: dict[str, Any]) -> str:
        """A sign-in's session token (kept, with its CSRF token), for `Authorization: Bearer`."""
        status, headers, answer = self.send("POST", "/api/auth", body | {"action": "login"})
        assert status == 200, answer
        return self.kept_session(what, headers)

    def kept_session(self, what: str, headers: Any) -> str:
        jar: SimpleCookie = SimpleCookie()
        for header in headers.get_all("Set-Cookie") or []:
            jar.load(header)
        self.keep(f"{what}: CSRF token", jar["csrf_token"].value)
        return f"Bearer {self.keep(f'{what}: session token', jar['auth_token'].value)}"


def _admin_flows(run: Campaign, demo: DemoData) -> None:
    """The demo admin: sign-ins right and wrong, a key made and rotated, a key where it does not belong."""
    admin = user(demo, "admin")
    assert admin.totp_secret is not None
    assert admin.api_key is not None
    run.keep("admin's password", admin.password)
    run.keep("admin's TOTP secret", admin.totp_secret)
    run.keep("admin's demo key", admin.api_key)
    typo = run.keep("a mistyped password", admin.password + "x")
    for body in ({"email": admin.email, "password": typo}, {"email": "nobody@example.com", "password": typo}):
        assert run.send("POST", "/api/auth", body | {"action": "login"})[0] == 401
    session = run.signed_in("admin", {"email": admin.email, "password": admin.password,
                                      "otp": pyotp.TOTP(admin.totp_secret).now()})  # fmt: skip
    made = run.ok("POST", "/api/keys", {"name": "logged?"}, Authorization=session)
    run.keep("a new key", made["key"])
    rotated = run.ok("POST", f"/api/keys/{made['id']}/rotate", Authorization=session)
    run.keep("a rotated key", rotated["key"])
    run.ok("GET", "/api/auth", X_API_Key=rotated["key"])
    run.send("GET", f"/api/surveys?api_key={made['key']}&token={session.split()[1]}")  # where no secret belongs
    run.send("GET", "/api/auth", Authorization=f"Bearer {session.split()[1]}x")  # refused, not logged either
    run.send("GET", "/api/auth", X_API_Key=made["key"][:-1] + "0")


def _invited_user_flows(run: Campaign, demo: DemoData) -> None:
    """An invited user: set-password token, password, MFA enrolment, recovery codes, password change, logout."""
    admin_key = user(demo, "admin").api_key
    email = "logs.reader@demo.tabular.test"
    invited = run.ok(
        "POST", "/api/users", {"email": email, "name": "Log Reader", "role": "member"}, X_API_Key=admin_key
    )
    token = run.keep("a set-password token", invited["set_password_token"])
    password = run.keep("a password set with the token", "chosen-" + secrets.token_urlsafe(12))
    run.ok("POST", "/api/users/set-password", {"token": token, "password": password})
    session = run.signed_in("the invited user", {"email": email, "password": password})

    setup = run.ok("POST", "/api/auth/mfa/setup", Authorization=session)["data"]
    app = Authenticator(run.keep("a new TOTP secret", setup["secret"]))
    status, headers, confirmed = run.send("POST", "/api/auth/mfa/confirm", {"code": app.code()}, Authorization=session)
    assert status == 200, confirmed
    session = run.kept_session("the enrolled user", headers)
    codes = confirmed["data"]["recovery_codes"]
    codes += run.ok("POST", "/api/auth/mfa/recovery-codes", {"code": app.code()}, Authorization=session)["data"][
        "recovery_codes"
    ]
    for number, code in enumerate(codes):
        run.keep(f"recovery code {number}", code)
        run.keep(f"recovery code {number}, as typed without dashes", code.replace("-", ""))
    session = run.signed_in("a recovery-code sign-in", {"email": email, "password": password, "otp": codes[-1]})

    new_password = run.keep("a changed password", "changed-" + secrets.token_urlsafe(12))
    body = {"current_password": password, "new_password": new_password}
    status, headers, answer = run.send("POST", "/api/auth/password", body, Authorization=session)
    assert status == 200, answer
    session = run.kept_session("after the password change", headers)
    run.ok("POST", "/api/auth", {"action": "logout"}, Authorization=session)


def _leaks(log: str, kept: dict[str, str]) -> list[str]:
    return [what for what, secret in kept.items() if secret in log]


def test_no_secret_reaches_the_server_logs(tmp_path: Path, sqlite_demo_template: tuple[Path, DemoData]) -> None:
    template, demo = sqlite_demo_template
    demo_database(tmp_path, template)
    canary = f"canary-{secrets.token_hex(8)}"
    output = tmp_path / "server-output.log"
    with output.open("wb") as captured, serving(tmp_path, output=captured, **VARIABLES) as base:
        run = Campaign(base)
        _admin_flows(run, demo)
        _invited_user_flows(run, demo)
        run.send("GET", "/api/health", X_Request_ID=canary)
    log = output.read_text(encoding="utf-8", errors="replace")  # the server has stopped: everything is written
    assert canary in log, "the search must read what the server wrote, or it proves nothing"
    assert log.count('"request_id"') >= run.requests, "an access line for every request"
    assert len(run.secrets) > 40
    assert _leaks(log, run.secrets) == []
