"""How long `tabular --help` takes, beside a bare `python -c pass`: the CLI's own start-up cost.

    uv run --group dev python bench/cli_startup.py [--runs N]

Each is run N times as a new process (what a person typing the command waits for); the median and the
spread are printed. Nothing is asserted: the issue's target is under 0.5 s on the machine it runs on.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

TABULAR = str(Path(sys.executable).parent / "tabular")


def timed(command: list[str], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - our own commands
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    timed([TABULAR, "--help"], 1)  # warm the file cache (and byte-compile) before measuring
    for name, command in [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("tabular --help", [TABULAR, "--help"]),
        ("tabular --version", [TABULAR, "--version"]),
    ]:
        seconds = timed(command, runs)
        print(
            f"{name:<18} median {statistics.median(seconds) * 1000:7.1f} ms"
            f"  min {min(seconds) * 1000:7.1f}  max {max(seconds) * 1000:7.1f}  ({runs} runs)"
        )


if __name__ == "__main__":
    main()
