"""Schemathesis's engine run in-process against a live server, its failures gathered into one readable list."""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Final

import schemathesis
from schemathesis.engine import StopReason, events, from_schema

CHECKS: Final = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
SEED: Final = 20260101
DEEP: Final = os.environ.get("TABULAR_CONTRACT_DEEP", "") == "1"
"""`TABULAR_CONTRACT_DEEP=1` adds the coverage phase (every boundary and wrong type of every parameter) and ten
times the examples: minutes instead of seconds, for a local hunt rather than every CI run."""
DEADLINE: Final = 600.0 if DEEP else 45.0
"""Seconds one identity's run may take before it is stopped (and the test fails for it)."""
METHODS: Final = ("get", "put", "post", "delete", "patch")
REPRO_LIMIT: Final = 500
"""Characters of a repro shown; the shortest case of each failure is kept, but negative bodies can be long."""


def settings(headers: dict[str, str]) -> dict[str, Any]:
    """The run's configuration (schemathesis.toml's keys): the five response checks, a fixed seed, few examples."""
    phases = ["examples", "fuzzing", "stateful", *(["coverage"] if DEEP else [])]
    return {
        "seed": SEED,
        "workers": 1,
        "request-timeout": 10,
        "continue-on-failure": True,
        "cache": {"enabled": False},  # no .schemathesis/ in the checkout, and no run depends on a previous one
        "headers": headers,
        "generation": {
            "mode": "all",  # valid and invalid input: a refusal must be documented too
            "max-examples": 20 if DEEP else 2,
            "deterministic": True,
            "database": "none",
            "no-shrink": True,
            "with-security-parameters": False,  # credentials are the identity's, not generated
        },
        "checks": {"enabled": False, **{check: {"enabled": True} for check in CHECKS}},
        "phases": {
            "enabled": False,
            **{phase: {"enabled": True} for phase in phases},
            "stateful": {"enabled": True, "max-steps": 40 if DEEP else 10},
        },
    }


@dataclass(frozen=True, order=True)
class Finding:
    """One distinct failure: an operation answered a check wrongly with this status, for this reason."""

    operation: str
    check: str
    status: int | None
    title: str
    detail: str = field(compare=False)
    repro: str = field(compare=False)

    def describe(self) -> str:
        """Two lines or more: what failed, then the curl command(s) reproducing it (a stateful chain is several)."""
        repro = (
            self.repro if len(self.repro) <= REPRO_LIMIT else f"{self.repro[:REPRO_LIMIT]}… ({len(self.repro)} chars)"
        )
        steps = "\n    ".join(repro.splitlines())
        return f"{self.operation} | {self.check} | {self.status} | {self.title}: {self.detail}\n    {steps}"


@dataclass
class Run:
    """What one run against one identity found, and which operations it reached."""

    operations: set[str]
    findings: dict[tuple[str, str, int | None, str], Finding] = field(default_factory=dict)
    answered: set[str] = field(default_factory=set)
    phases: dict[str, str] = field(default_factory=dict)
    stop_reason: str = "never finished"

    @property
    def unanswered(self) -> list[str]:
        return sorted(self.operations - self.answered)

    def add(self, finding: Finding) -> None:
        """Keep one finding per (operation, check, status, title): the one with the shortest reproduction."""
        key = (finding.operation, finding.check, finding.status, finding.title)
        known = self.findings.get(key)
        if known is None or len(finding.repro) < len(known.repro):
            self.findings[key] = finding

    def report(self) -> str:
        lines = [f"stopped: {self.stop_reason}; phases: {self.phases}"]
        if self.unanswered:
            lines.append(f"operations never answered: {self.unanswered}")
        lines.append(f"{len(self.findings)} distinct failures (operation | check | status | reason, then a repro):")
        lines += [finding.describe() for finding in sorted(self.findings.values())]
        return "\n".join(lines)


def documented_operations(base_url: str) -> set[str]:
    """`METHOD /path` of every operation of the live schema."""
    with urllib.request.urlopen(f"{base_url}/schema/openapi.json", timeout=10) as response:  # noqa: S310 - loopback
        schema = json.load(response)
    paths = schema["paths"].items()
    return {f"{method.upper()} {path}" for path, item in paths for method in item if method in METHODS}


def fuzz(base_url: str, headers: dict[str, str]) -> Run:
    """Every operation of the schema at `base_url`, as the caller of `headers`; stopped after `DEADLINE` seconds."""
    config = schemathesis.Config.from_dict(settings(headers))
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json", config=config, timeout=10)
    run = Run(operations=documented_operations(base_url))
    stream = from_schema(schema).execute()
    timer = threading.Timer(DEADLINE, stream.stop)
    timer.start()
    try:
        for event in stream:
            _record(run, event)
    finally:
        timer.cancel()
    return run


def _record(run: Run, event: events.EngineEvent) -> None:
    if isinstance(event, events.ScenarioFinished):
        _record_scenario(run, event.recorder)
    elif isinstance(event, events.NonFatalError):
        title = event.info.title
        run.add(Finding(event.label, "(engine error)", None, title, _first_line(event.info.message), ""))
    elif isinstance(event, events.FatalError):
        run.add(Finding("(run)", "(fatal error)", None, type(event.exception).__name__, str(event.exception), ""))
    elif isinstance(event, events.PhaseFinished):
        run.phases[event.phase.name.value] = event.status.value
    elif isinstance(event, events.EngineFinished):
        run.stop_reason = event.stop_reason.value


def _record_scenario(run: Run, recorder: Any) -> None:
    for case_id, interaction in recorder.interactions.items():
        if interaction.response is not None and case_id in recorder.cases:
            run.answered.add(recorder.cases[case_id].value.operation.label)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            response = recorder.find_response(case_id=case_id)
            run.add(
                Finding(
                    operation=failure.operation or recorder.label,
                    check=check.name,
                    status=response.status_code if response is not None else None,
                    title=failure.title,
                    detail=_first_line(failure.message),
                    repro=check.failure_info.code_sample,
                )
            )


def _first_line(text: str, limit: int = 240) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def completed(run: Run) -> bool:
    return run.stop_reason == StopReason.COMPLETED.value
