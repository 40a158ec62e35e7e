"""The API's documentation pages in headless Chromium: drawn from this server alone, under their own policy.

The `browser` fixture fails the test on any console error (a script or style the Content-Security-Policy
blocked shows there) and on any request to another host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.browser import Browser


def test_redoc_draws_the_api_from_this_server_under_its_policy(browser: Browser) -> None:
    browser.open("/schema/redoc")
    browser.wait_for("[data-section-id^='tag/']")  # drawn: the schema was fetched and rendered
    assert "Log in (action=login) or out (action=logout)" in browser.text("body")


def test_swagger_ui_draws_the_api_from_this_server_under_its_policy(browser: Browser) -> None:
    browser.open("/schema/swagger")
    browser.wait_for(".opblock")  # drawn: the schema was fetched and rendered
    assert "Log in (action=login) or out (action=logout)" in browser.text("body")
