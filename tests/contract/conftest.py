"""One live server per contract test module, on its own demo database, with rate limits out of the way."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.contract import UNLIMITED, Live, live_demo

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_demo(tmp_path_factory.mktemp("live"), **UNLIMITED) as server:
        yield server
