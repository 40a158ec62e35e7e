"""The `tabular` command for tests: one-shot commands, and live servers started on loopback, always stopped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tests.support.servers import free_port, wait_for_port

if TYPE_CHECKING:
    from collections.abc import Iterator

TABULAR = str(Path(sys.executable).parent / "tabular")


def environment(**variables: str) -> dict[str, str]:
    """This process's environment without any TABULAR_ variable, plus `variables`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TABULAR_")} | variables


@contextmanager
def serving(tmp_path: Path, *args: str, output: IO[bytes] | None = None, **variables: str) -> Iterator[str]:
    """`tabular serve` on a free port until the block ends; its output (and errors) go to `output`."""
    port = free_port()
    process = subprocess.Popen(
        [TABULAR, "serve", "--port", str(port), *args],
        cwd=tmp_path,
        env=environment(**variables),
        stdout=output or subprocess.DEVNULL,
        stderr=output or subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def call(url: str, headers: dict[str, str], body: dict[str, Any] | None = None, method: str | None = None) -> Any:
    """(status, headers (an `email.message.Message`), JSON body or None) of one request, with a timeout."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=data, method=method, headers=headers | ({"Content-Type": "application/json"} if data else {})
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
            return int(response.status), response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return int(error.code), error.headers, json.loads(raw) if raw else None


def status_of(url: str, headers: dict[str, str]) -> int:
    status: int = call(url, headers)[0]
    return status


def demo_database(tmp_path: Path, template: Path) -> None:
    """A copy of the session's seeded demo database where `tabular serve` in `tmp_path` looks by default."""
    shutil.copyfile(template, tmp_path / "tabular.db")


def run(*args: str, cwd: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`tabular ARGS` in `cwd` with only `variables` of TABULAR_*, its output captured (never raises)."""
    return subprocess.run(
        [TABULAR, *args], cwd=cwd, env=environment(**variables), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
