"""argon2 runs in a pool of its own, bounded below the machine's cores, off the event loop."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from tabular.auth import passwords
from tests.support.settings import TEST_AT_REST

pytestmark = pytest.mark.anyio


async def test_a_burst_of_verifications_never_takes_more_than_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    running = 0
    most = 0
    threads: set[str] = set()
    niceness: set[int] = set()
    lock = threading.Lock()
    real = passwords._verify  # noqa: SLF001 - counted where it runs

    def counted(encoded: str, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.current_thread().name)
            niceness.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        time.sleep(0.01)  # hold the slot, so that a second thread (if there were one) would overlap
        try:
            return real(encoded, password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(passwords, "_verify", counted)
    encoded = await passwords.hash_password("a burst of logins", using=TEST_AT_REST.password_hasher)
    results = await asyncio.gather(*(passwords.verify_password(encoded, f"guess {i}") for i in range(8)))
    assert results == [False] * 8
    assert most == passwords.ARGON2_THREADS < (threading.active_count() + 40)
    assert all(name.startswith("argon2") for name in threads)
    assert max(1, (__import__("os").cpu_count() or 2) - 1) == passwords.ARGON2_THREADS


async def test_the_right_password_still_verifies() -> None:
    encoded = await passwords.hash_password("correct horse battery", using=TEST_AT_REST.password_hasher)
    assert await passwords.verify_password(encoded, "correct horse battery")
    assert not await passwords.verify_password(encoded, "correct horse staple")
    assert not await passwords.verify_password("not an argon2 hash", "correct horse battery")
