"""Developer sessions: `uv run --group dev nox` runs lint, typecheck and tests, the same checks CI runs."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "none"  # every session runs in the project's uv environment
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: the rule set in pyproject.toml, and the formatter's verdict."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy, strict, on src/."""
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite, on SQLite and PostgreSQL, against real Redis servers, in two worker processes.

    Each worker starts its own servers and databases (ports and directories are picked free); a test file
    stays on one worker (`loadfile`), so a module's live server is started once. Two workers for the two
    cores this runs on (1,396 tests in 9 min 7 s on an otherwise idle machine, at af02715). The 15 slowest
    tests are printed at the end.
    """
    # Python keeps the bytecode it compiles (in __pycache__ folders, git-ignored) even where the machine says not
    # to (PYTHONDONTWRITEBYTECODE, set in many containers): otherwise each of the ~30 Python processes the suite
    # starts (workers, live servers, CLI runs) compiles the whole stack again, about 4 s of CPU each.
    session.run(
        "pytest", "-n", "2", "--dist", "loadfile", "--durations=15", *session.posargs,
        env={"PYTHONDONTWRITEBYTECODE": ""},
    )  # fmt: skip
