"""One live server per contract test module, on its own demo database, with rate limits out of the way."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.contract import UNLIMITED, Live, live_demo

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tabular.demo import DemoData


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_demo_template: tuple[Path, DemoData]) -> Iterator[Live]:
    with live_demo(tmp_path_factory.mktemp("live"), sqlite_demo_template, **UNLIMITED) as server:
        yield server
