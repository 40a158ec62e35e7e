"""Developer sessions: `uv run nox` runs lint, typecheck and tests, the same checks CI runs."""

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
    """The whole suite, on SQLite and PostgreSQL, against a real Redis server."""
    session.run("pytest", *session.posargs)
