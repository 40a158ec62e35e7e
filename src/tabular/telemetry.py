"""The process's own Prometheus metrics: what Litestar's request metrics cannot see.

Counted wherever the decision is made (authentication, the policy guard, the rate limiter, sign-in,
argon2), always: an increment is a fraction of a microsecond. They are exposed, with Litestar's request
counts and durations by route template and status, at `/metrics` only when `TABULAR_METRICS=true`, and
only to the networks in `TABULAR_METRICS_ALLOW` (loopback by default). Labels are closed sets (kinds,
codes, quota names), never ids, so the series stay few.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Histogram

AUTHENTICATIONS: Final = Counter(
    "tabular_authentications", "Credentials presented, by kind and outcome (`ok` or the refusal's code)",
    ["credential", "outcome"],
)  # fmt: skip
POLICY_REFUSALS: Final = Counter(
    "tabular_policy_refusals", "Requests the policy guard refused (403/404), by reason code", ["reason"]
)
RATE_LIMIT_DECISIONS: Final = Counter(
    "tabular_rate_limit_decisions", "Quota checks, by quota and outcome (`admitted`, `refused`)", ["quota", "outcome"]
)
RATE_LIMIT_FALLBACKS: Final = Counter(
    "tabular_rate_limit_fallbacks", "Requests the limiter decided in this process because Redis did not answer"
)
SIGN_IN_SECONDS: Final = Histogram(
    "tabular_sign_in_seconds", "Time to answer a password sign-in, by outcome", ["outcome"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0),
)  # fmt: skip
ARGON2_SECONDS: Final = Histogram(
    "tabular_argon2_seconds", "Time of one argon2 computation (hash or verify) in its thread",
    buckets=(0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0),
)  # fmt: skip
