"""Export costs: `GET /api/surveys/{id}/responses/export` on 10,000 and 100,000 responses, next to a bare read.

Run: `uv run python bench/export.py` (`--rows N` for the large survey, `--keep` to keep the scratch folder).
It builds a throw-away SQLite database with the demo data, bulk-inserts two surveys' responses (every
question kind, two choices per multiple-choice answer: five answer rows per response), starts
`tabular serve` on it and downloads each survey's export in both formats as the demo admin, timing it
from the request to the last byte and sampling the server's resident memory (`/proc/PID/status`, VmRSS,
every 5 ms) while it runs. Memory flat in the number of rows shows as the same growth for both surveys.

The baseline is this script run again as a separate process (`--bare`): the same joined rows, read with the
same single query through SQLAlchemy Core (1,000 rows a fetch) and written as CSV or JSON lines, one line per
row, to nowhere; no HTTP, no grouping per response, no neutralising. Its memory is sampled the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Self

import msgspec
import uuid_utils
from demo_database import demo_database
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from tabular.db import Answer, Question, QuestionKind, Response, Survey, SurveyStatus

SECRET = "bench-export-" + "x" * 40
SMALL = 10_000
CHUNK = 5_000
BIN = Path(sys.executable).parent
QUESTIONS = [
    {"kind": QuestionKind.SINGLE_CHOICE, "text": "Favourite colour?", "choices": ["Red", "Green", "Blue"]},
    {"kind": QuestionKind.MULTIPLE_CHOICE, "text": "Which pets?", "choices": ["Cat", "Dog", "Fish"]},
    {"kind": QuestionKind.RATING, "text": "How happy?", "scale": 5},
    {"kind": QuestionKind.TEXT, "text": "Anything else?"},
]
HEADER = f"{'':24} {'rows':>8} {'time':>8} {'rows/s':>9} {'MB out':>7} {'RSS before':>11} {'peak':>8} {'growth':>7}"
TEXTS = ["Lovely survey.", "=1+2 looks like a formula", "Fine, thanks", "-", "Could be shorter; much shorter."]


def _uuid() -> Any:  # noqa: ANN401 - a uuid.UUID
    return uuid_utils.compat.uuid7()


async def fill(database_url: str, workspace_id: str, sizes: list[int]) -> list[str]:
    """One survey per size, its responses bulk-inserted (executemany in chunks); their ids."""
    engine = create_async_engine(database_url)
    rng = random.Random(16)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ids = []
    async with engine.begin() as connection:
        for size in sizes:
            survey_id = _uuid()
            await connection.execute(
                insert(Survey.__table__),
                [{"id": survey_id, "workspace_id": workspace_id, "title": f"Bench {size}", "description": "",
                  "status": SurveyStatus.PUBLISHED, "created_at": start, "updated_at": start}],
            )  # fmt: skip
            question_ids = [_uuid() for _ in QUESTIONS]
            await connection.execute(
                insert(Question.__table__),
                [{"id": question_id, "survey_id": survey_id, "position": position, "required": False,
                  "choices": question.get("choices"), "scale": question.get("scale"), "kind": question["kind"],
                  "text": question["text"], "created_at": start, "updated_at": start}
                 for position, (question_id, question) in enumerate(zip(question_ids, QUESTIONS, strict=True))],
            )  # fmt: skip
            colour, pets, rating, comment = question_ids
            for first in range(0, size, CHUNK):
                responses, answers = [], []
                for index in range(first, min(first + CHUNK, size)):
                    response_id, at = _uuid(), start + dt.timedelta(seconds=index)
                    responses.append({"id": response_id, "survey_id": survey_id, "completed": True,
                                      "respondent_name": f"Respondent {index}",
                                      "respondent_email": f"r{index}@example.com", "created_at": at,
                                      "updated_at": at})  # fmt: skip
                    values = [
                        (colour, {"choice": rng.choice(["Red", "Green", "Blue"])}),
                        *((pets, {"choice": pet}) for pet in rng.sample(["Cat", "Dog", "Fish"], 2)),
                        (rating, {"rating": rng.randint(1, 5)}),
                        (comment, {"text": rng.choice(TEXTS)}),
                    ]
                    answers += [
                        {"id": _uuid(), "response_id": response_id, "question_id": question_id, "choice": None,
                         "rating": None, "text": None} | value
                        for question_id, value in values
                    ]  # fmt: skip
                await connection.execute(insert(Response.__table__), responses)
                await connection.execute(insert(Answer.__table__), answers)
            ids.append(str(survey_id))
    await engine.dispose()
    return ids


class Peak:
    """The highest resident set size of a process while the block runs, sampled every 5 ms (kB)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = self.peak = rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Self:
        self.before = self.peak = rss(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            try:
                self.peak = max(self.peak, rss(self.pid))
            except (FileNotFoundError, ProcessLookupError):
                return


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ProcessLookupError(pid)


def download(url: str, api_key: str) -> tuple[int, int]:
    """(bytes, lines) of a streamed answer, read 64 KiB at a time and thrown away."""
    request = urllib.request.Request(url, headers={"X-API-Key": api_key})  # noqa: S310 - loopback
    size = lines = 0
    with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310
        assert answer.status == 200, answer.status
        while chunk := answer.read(65536):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"tabular serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("tabular serve did not start")


def bare(database_url: str, survey_id: str, file_format: str) -> None:
    """The baseline: the export's rows read with the same query and written line by line to nowhere."""
    columns = [Response.id, Response.created_at, Response.completed, Response.submitted_by_id,
               Response.respondent_name, Response.respondent_email, Answer.question_id, Answer.choice,
               Answer.rating, Answer.text]  # fmt: skip
    query = (
        select(*columns)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(Response.survey_id == survey_id)
        .order_by(Response.created_at, Response.id)
    )

    async def run() -> None:
        engine = create_async_engine(database_url)
        sink, encoder = io.StringIO(), msgspec.json.Encoder()
        writer = csv.writer(sink)
        async with engine.connect() as connection:
            result = await connection.stream(query.execution_options(yield_per=1000))
            async for batch in result.partitions(1000):
                for row in batch:
                    values = [str(value) if value is not None else "" for value in row]
                    if file_format == "csv":
                        writer.writerow(values)
                    else:
                        sink.write(encoder.encode(values).decode() + "\n")
                sink.seek(0)
                sink.truncate()
        await engine.dispose()

    print("ready", flush=True)  # imports done: the parent measures memory from here
    sys.stdin.readline()
    asyncio.run(run())


def measure_bare(database_url: str, survey_id: str, file_format: str) -> tuple[float, Peak]:
    process = subprocess.Popen(  # noqa: S603 - this script
        [sys.executable, __file__, "--bare", database_url, survey_id, file_format],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    with Peak(process.pid) as peak:
        start = time.perf_counter()
        process.stdin.write(b"go\n")
        process.stdin.close()
        process.wait()
        elapsed = time.perf_counter() - start
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--bare", nargs=3, metavar=("DATABASE_URL", "SURVEY_ID", "FORMAT"))
    args = parser.parse_args()
    if args.bare:
        bare(*args.bare)
        return
    workdir = Path(tempfile.mkdtemp(prefix="tabular-bench-export-"))
    try:
        settings, data = asyncio.run(demo_database(workdir, secret_key=SECRET))
        admin = next(user for user in data.users if user.role == "admin")
        database_url, api_key, workspace_id = settings.database_url, admin.api_key, data.workspaces[0].id
        start = time.perf_counter()
        sizes = [SMALL, args.rows]
        surveys = asyncio.run(fill(database_url, workspace_id, sizes))
        print(
            f"filled {sum(sizes):,} responses ({5 * sum(sizes):,} answer rows) in {time.perf_counter() - start:.1f} s"
        )
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TABULAR_")}
        env |= {"TABULAR_SECRET_KEY": SECRET, "TABULAR_DATABASE_URL": database_url, "TABULAR_ACCESS_LOG": "false"}
        log = (workdir / "server.log").open("wb")
        server = subprocess.Popen(  # noqa: S603 - our own command
            [str(BIN / "tabular"), "serve", "--port", str(port)], cwd=workdir, env=env, stdout=log, stderr=log
        )
        try:
            wait_for(port, server)
            download(f"http://127.0.0.1:{port}/api/surveys/{surveys[0]}/responses/export?format=csv", api_key)  # warm
            print(HEADER)
            for size, survey_id in zip(sizes, surveys, strict=True):
                for file_format in ("csv", "ndjson"):
                    url = f"http://127.0.0.1:{port}/api/surveys/{survey_id}/responses/export?format={file_format}"
                    with Peak(server.pid) as peak:
                        start = time.perf_counter()
                        size_out, lines = download(url, api_key)
                        elapsed = time.perf_counter() - start
                    expected = size + (1 if file_format == "csv" else 0)
                    assert lines >= expected, (lines, expected)  # CSV cells may hold line breaks: never fewer
                    report(f"API export, {file_format}", size, elapsed, size_out, peak)
                    elapsed, bare_peak = measure_bare(database_url, survey_id, file_format)
                    report(f"bare read, {file_format}", size, elapsed, None, bare_peak)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(label: str, rows: int, elapsed: float, size: int | None, peak: Peak) -> None:
    out = f"{size / 1e6:7.1f}" if size is not None else f"{'-':>7}"
    print(
        f"{label:24} {rows:8,} {elapsed:7.2f}s {rows / elapsed:9,.0f} {out} {peak.before / 1024:9.1f}MB"
        f" {peak.peak / 1024:6.1f}MB {(peak.peak - peak.before) / 1024:5.1f}MB",
        flush=True,
    )


if __name__ == "__main__":
    main()
