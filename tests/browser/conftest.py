"""One live server for the browser tests (the demo data, a low per-account password quota) and one browser."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import Browser, available, start_browser
from tests.support.contract import UNLIMITED, Live, live_demo

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tabular.demo import DemoData

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ACCOUNT_QUOTA = 3
"""Password attempts per account from an unfamiliar address: the throttle test runs out of it quickly."""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_demo_template: tuple[Path, DemoData]) -> Iterator[Live]:
    variables = UNLIMITED | {"TABULAR_ACCOUNT_RATE_LIMIT": f"{ACCOUNT_QUOTA}/15m"}
    with live_demo(tmp_path_factory.mktemp("pages"), sqlite_demo_template, **variables) as server:
        yield server


@pytest.fixture(scope="module")
def chromium(live: Live) -> Iterator[Browser]:
    if not available():
        if IN_CI:
            pytest.fail("chromium and chromium-driver are not installed (.ci/run installs them)")
        pytest.skip("chromium and chromium-driver are not installed: apt-get install chromium chromium-driver")
    yield from start_browser(live.base_url)


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Browser]:
    """The module's browser as a new visitor; the test fails if any page it saw logged an error or went elsewhere."""
    chromium.forget()
    chromium.problems.clear()
    yield chromium
    assert chromium.problems == []
