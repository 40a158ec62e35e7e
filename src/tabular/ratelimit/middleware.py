"""Applies the rate-limit quotas to each request, after authentication and before any guard or route.

Keys, as the product specifies: the general quota counts per user when a principal was resolved (all of a
user's keys and sessions share it) and per client IP otherwise, which includes every request whose
credentials were rejected, so guessing keys is throttled. Credential-submitting requests
(`POST /api/auth…`) also count against the auth quota per client IP.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from tabular.auth.client_ip import client_ip, rate_subject
from tabular.errors import TooManyRequests, problem, send_problem, under_auth
from tabular.page_headers import PAGE_HEADERS
from tabular.policies.requirements import POLICY_OPT_KEY
from tabular.ratelimit.window import Allowance, Hit, Quota
from tabular.telemetry import RATE_LIMIT_DECISIONS

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send
    from prometheus_client import Counter

    from tabular.auth.principal import Principal
    from tabular.ratelimit.window import Backend
    from tabular.settings import Settings


AUTH_QUOTA_OPT_KEY: Final = "auth_quota"
"""In a page handler's `opt`: its form submits a password or a code, so it counts against the auth quota too."""
PAGE_OPT_KEY: Final = "page"
"""In a page handler's `opt`: a person reads the answer, so a refusal is a sentence, not a problem document."""


class RateLimitMiddleware(ASGIMiddleware):
    """Counts the request under each quota that applies; 429 past a limit; `RateLimit-*` headers always.

    The legacy trio reports the most restrictive quota; the IETF draft's fields list them all.
    """

    scopes = (ScopeType.HTTP,)

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        """A route declared `public(rate_limited=False)` (the health probes) is never limited.

        The declaration decides, here and in the OpenAPI document alike (no 429, no RateLimit headers).
        """
        declaration = scope["route_handler"].opt.get(POLICY_OPT_KEY)
        return declaration is not None and not declaration.rate_limited

    def __init__(self, backend: Backend, settings: Settings) -> None:
        self.backend = backend
        self.general = Quota.of("general", settings.rate_limit)
        self.auth = Quota.of("auth", settings.auth_rate_limit)
        self.trusted_proxies = settings.trusted_proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Decide, then answer 429 or pass on with the headers added to whatever the route answers."""
        allowances = await self.backend.hit(self.hits(scope))
        for allowance in allowances:
            _decisions(allowance.quota.name, allowance.allowed).inc()
        headers = rate_limit_headers(allowances)
        refused = [allowance for allowance in allowances if not allowance.allowed]
        if refused:
            page = bool(scope["route_handler"].opt.get(PAGE_OPT_KEY))
            await _refuse(send, headers, retry_after=max(d.reset for d in refused), scope=scope, page=page)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":  # appended as they are: no route sets these itself
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await next_app(scope, receive, send_with_headers)

    def hits(self, scope: Scope) -> list[Hit]:
        """The quotas this request counts against, each with its subject."""
        ip = rate_subject(client_ip(scope, self.trusted_proxies))
        principal: Principal | None = scope.get("user")
        hits = [Hit(self.general, f"user:{principal.user_id}" if principal is not None else ip)]
        submits = under_auth(scope["path"]) or scope["route_handler"].opt.get(AUTH_QUOTA_OPT_KEY, False)
        if scope.get("method") == "POST" and submits:
            hits.append(Hit(self.auth, ip))
        return hits


def rate_limit_headers(allowances: list[Allowance]) -> list[tuple[bytes, bytes]]:
    """The legacy trio for the most restrictive allowance, and the draft's structured fields for all (raw ASGI)."""
    tightest = min(allowances, key=lambda d: (d.remaining, -d.reset))
    return [
        (b"ratelimit-limit", b"%d" % tightest.quota.limit),
        (b"ratelimit-remaining", b"%d" % tightest.remaining),
        (b"ratelimit-reset", b"%d" % tightest.reset),
        (b"ratelimit-policy", _policy_field(tuple(d.quota for d in allowances))),
        (b"ratelimit", ", ".join(f'"{d.quota.name}";r={d.remaining};t={d.reset}' for d in allowances).encode()),
    ]


@functools.cache
def _decisions(quota: str, allowed: bool) -> Counter:  # noqa: FBT001 - a cache key
    """The counter of one quota's admitted or refused requests (resolved once per pair)."""
    return RATE_LIMIT_DECISIONS.labels(quota, "admitted" if allowed else "refused")


@functools.cache
def _policy_field(quotas: tuple[Quota, ...]) -> bytes:
    """`RateLimit-Policy`: the same for every request counted against the same quotas, so built once."""
    return ", ".join(f'"{p.name}";q={p.limit};w={p.window}' for p in quotas).encode()


async def _refuse(
    send: Send, headers: list[tuple[bytes, bytes]], *, retry_after: int, scope: Scope, page: bool = False
) -> None:
    refusal = TooManyRequests(
        f"Rate limit exceeded; retry in {retry_after} seconds.", headers={"Retry-After": str(retry_after)}
    )
    if not page:
        await send_problem(send, scope, refusal, headers)
        return
    problem(429, refusal.code, refusal.detail, scope=scope)  # not sent, but it notes the refusal for the log
    minutes = -(-retry_after // 60)
    body = _PAGE_REFUSAL.format(minutes=minutes, s="" if minutes == 1 else "s").encode()
    raw_headers = [
        *headers,
        (b"retry-after", str(retry_after).encode()),
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *_PAGE_HEADERS,
    ]
    await send({"type": "http.response.start", "status": 429, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


_PAGE_REFUSAL: Final = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Too many attempts - Tabular</title>'
    '<link rel="icon" href="/static/favicon.svg"><link rel="stylesheet" href="/static/pages.css"></head>'
    '<body><main id="main">'
    '<h1>Too many attempts</h1><p role="alert">Too many requests came from your address. '
    'Try again in {minutes} minute{s}.</p><p><a href="/">Tabular</a></p></main></body></html>'
)
_PAGE_HEADERS: Final = tuple((name.lower().encode(), value.encode()) for name, value in PAGE_HEADERS.items())
