"""A real browser for the page tests: Debian's headless Chromium, driven by Selenium through its chromedriver.

Nothing is downloaded at run time: the browser and the driver are the system's (`apt-get install chromium
chromium-driver`; `.ci/run` installs them), named by path so Selenium Manager never runs. Each page visited
is checked as it loads: no console error, and no request to any host but the server under test (the
Chrome DevTools performance log lists every request the page made).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyotp
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

if TYPE_CHECKING:
    from collections.abc import Iterator

    from selenium.webdriver.remote.webelement import WebElement

CHROMIUM: Final = "/usr/bin/chromium"
CHROMEDRIVER: Final = "/usr/bin/chromedriver"
FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
SCREENSHOTS: Final = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
"""Written by the tests on every run (git-ignored); `docs/screenshots/` holds the copies the README shows."""
SIZES: Final = {"desktop": (1280, 900), "phone": (390, 844)}


def available() -> bool:
    """Whether the system browser and its driver are installed."""
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


@dataclass
class Browser:
    """One headless Chromium on the server at `base_url`; every page it loads is checked (see `problems`)."""

    driver: webdriver.Chrome
    base_url: str
    problems: list[str] = field(default_factory=list)
    """Console errors and requests to other hosts seen so far, each with the page it came from."""

    def open(self, path: str) -> None:
        """Load `path` of the server and check what the page did."""
        self.driver.get(self.base_url + path)
        self.check()

    def check(self, expected_status: int | None = None) -> None:
        """Collect console errors and foreign requests since the last check (a refused form may answer 4xx)."""
        here = self.driver.current_url
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            refused_document = expected_status is not None and f"status of {expected_status}" in message
            if entry.get("level") == "SEVERE" and not refused_document:
                self.problems.append(f"{here}: console: {message}")
        for entry in self.driver.get_log("performance"):
            event = json.loads(entry["message"])["message"]
            if event.get("method") != "Network.requestWillBeSent":
                continue
            url = event["params"]["request"]["url"]
            network = url.startswith(("http:", "https:", "ws:", "wss:", "ftp:"))  # not the browser's own chrome://
            if network and not url.startswith(self.base_url + "/"):
                self.problems.append(f"{here}: loaded {url}")

    def wait_for(self, css: str) -> None:
        """Wait until an element matching `css` is there (a page a script draws), then check what the page did."""
        _wait(lambda: self.finds(css))
        self.check()

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def fill(self, values: dict[str, str], *, form: str = "main form") -> None:
        """Type into the fields of the first `form` (by their ids)."""
        scope = self.find(form)
        for name, value in values.items():
            element = scope.find_element(By.ID, name)
            element.clear()
            element.send_keys(value)

    def submit(self, button_text: str, expected_status: int | None = None) -> None:
        """Click the visible button whose text is `button_text`, wait for the next page, check it."""
        button = next(
            b for b in self.finds("button") if b.is_displayed() and b.text.strip() == button_text
        )  # a StopIteration here names no button: the page is not the one the test thinks
        old = self.find("html")
        button.click()
        _wait(lambda: _stale(old))
        self.check(expected_status)

    def sign_out(self) -> None:
        self.submit("Sign out")

    def forget(self) -> None:
        """A new visitor: no cookies of the previous one."""
        self.driver.delete_all_cookies()

    def cookie(self, name: str) -> str | None:
        found = self.driver.get_cookie(name)
        return None if found is None else str(found["value"])

    def screenshot(self, name: str) -> None:
        """The whole page at desktop and phone width, as `artifacts/screenshots/NAME-{desktop,phone}.png`."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for size, (width, height) in SIZES.items():
            self.driver.set_window_size(width, height)
            full = self.driver.execute_script("return document.documentElement.scrollHeight")
            self.driver.set_window_size(width, max(height, int(full) + 120))
            self.driver.save_screenshot(str(SCREENSHOTS / f"{name}-{size}.png"))
            overflow = self.driver.execute_script(
                "return document.documentElement.scrollWidth > document.documentElement.clientWidth"
            )
            if overflow:
                self.problems.append(f"{self.driver.current_url}: wider than the {size} width ({width}px)")
        self.driver.set_window_size(*SIZES["desktop"])


def start_browser(base_url: str) -> Iterator[Browser]:
    """A fresh profile in a temporary directory; the browser quits and the profile goes when the block ends."""
    profile = tempfile.mkdtemp(prefix="tabular-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_window_size(*SIZES["desktop"])
    driver.set_page_load_timeout(30)
    try:
        yield Browser(driver, base_url)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Codes:
    """TOTP codes of one secret, each from a later 30-second step than the last (the server takes a code once).

    Starts a step back (the server accepts the previous, current and next step), so a test rarely waits.
    """

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.step = int(time.time()) // 30 - 1

    def next(self) -> str:
        self.step = max(self.step + 1, int(time.time()) // 30 - 1)
        while self.step > int(time.time()) // 30 + 1:  # three used in one step: wait for the next
            time.sleep(1)
        return str(self.totp.at(self.step * 30))


def _stale(element: Any) -> bool:
    try:
        element.is_enabled()
    except Exception:  # noqa: BLE001 - StaleElementReferenceException: the page was replaced
        return True
    return False


def _wait(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the page did not change")
        time.sleep(0.05)
