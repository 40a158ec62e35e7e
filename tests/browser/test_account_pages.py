"""The account pages in headless Chromium: a person gets a key through pages alone, and loses it as the API says.

Every page the browser loads is checked by the `browser` fixture: no console error, nothing from another
host. Screenshots of each page at desktop and phone width land in `artifacts/screenshots/`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from tests.support.browser import Codes
from tests.support.live import call

if TYPE_CHECKING:
    from tests.support.browser import Browser
    from tests.support.contract import Live

PASSWORD = "a-new-users-password-1"


def who_am_i(live: Live, key: str) -> int:
    status: int = call(f"{live.base_url}/api/auth", {"X-API-Key": key})[0]
    return status


def sign_in(browser: Browser, email: str, password: str, codes: Codes | None = None) -> None:
    browser.open("/login")
    browser.fill({"email": email, "password": password})
    browser.submit("Sign in")
    if codes is not None:
        assert "Enter your code" in browser.text()
        browser.fill({"code": codes.next()})
        browser.submit("Verify")


def enrol(browser: Browser) -> Codes:
    """From the keys page's refusal to MFA on: the QR code, the secret read from the page, the recovery codes."""
    browser.find("#blocked a").click()
    browser.check()
    assert "MFA is off" in browser.text()
    browser.screenshot("security-mfa-off")
    browser.submit("Set up an authenticator app")
    assert browser.finds(".qr svg"), "the QR code is drawn on the page"
    secret = browser.text("#totp-secret")
    codes = Codes(secret)
    browser.screenshot("security-enrol")
    browser.fill({"code": codes.next()})
    browser.submit("Turn MFA on")
    recovery = browser.text("#recovery-codes").split()
    assert len(recovery) == 10
    assert browser.find("a[download]").get_attribute("href").startswith("data:text/plain")
    browser.screenshot("security-recovery-codes")
    return codes


def test_a_new_user_enrols_mfa_and_gets_a_key_that_the_api_accepts_until_revoked(live: Live, browser: Browser) -> None:
    admin_key = live.user("admin")["api_key"]
    email = f"new-{uuid.uuid4().hex[:8]}@demo.tabular.test"
    new_user = {"email": email, "name": "Nina New", "role": "member", "password": PASSWORD}
    assert call(f"{live.base_url}/api/users", {"X-API-Key": admin_key}, new_user)[0] == 201

    browser.open("/")
    browser.screenshot("landing")
    browser.open("/login")
    browser.screenshot("sign-in")
    browser.fill({"email": email, "password": PASSWORD})
    browser.submit("Sign in")
    assert browser.driver.current_url.endswith("/account/api-keys")
    assert "API keys need two-factor authentication" in browser.text("#blocked")
    assert browser.finds("form[action='/account/api-keys']") == []
    browser.screenshot("api-keys-mfa-off")

    codes = enrol(browser)

    browser.sign_out()
    assert browser.cookie("auth_token") is None
    browser.open("/login")
    browser.fill({"email": email, "password": PASSWORD})
    browser.submit("Sign in")
    browser.screenshot("sign-in-code")
    browser.fill({"code": codes.next()})
    browser.submit("Verify")
    assert browser.driver.current_url.endswith("/account/api-keys")

    browser.fill({"name": "nightly export"}, form="form[action='/account/api-keys']")
    browser.submit("Create key")
    key = browser.text("#new-key")
    assert key.startswith("tp_")
    assert len(key) == 51
    assert "shown only this once" in browser.text(".shown-once")
    browser.screenshot("api-keys-created")
    assert who_am_i(live, key) == 200

    browser.open("/account/api-keys")
    assert key not in browser.driver.page_source, "the key is shown once, never again"
    row = next(r for r in browser.finds("tbody tr") if "nightly export" in r.text)
    assert "active" in row.text
    browser.screenshot("api-keys")
    row.find_element("css selector", "details summary").click()
    browser.submit("Revoke nightly export")
    assert "is revoked" in browser.text("[role=status]")
    assert who_am_i(live, key) == 401


def test_an_admin_revokes_a_members_key_from_the_organization_page(live: Live, browser: Browser) -> None:
    admin, member = live.user("admin"), live.user("member")
    assert who_am_i(live, member["api_key"]) == 200
    sign_in(browser, admin["email"], admin["password"], Codes(admin["totp_secret"]))
    browser.open("/account/organization-keys")
    browser.screenshot("organization-keys")
    section = next(s for s in browser.finds("section.owner") if member["email"] in s.text)
    active = next(r for r in section.find_elements("css selector", "tbody tr") if "active" in r.text)
    active.find_element("css selector", "details summary").click()
    browser.submit("Revoke demo")
    assert "is revoked" in browser.text("[role=status]")
    assert who_am_i(live, member["api_key"]) == 401


def test_sign_in_refusals_say_what_went_wrong(live: Live, browser: Browser) -> None:
    person = next(user for user in live.demo["users"] if user["email"].startswith("member2"))
    browser.open("/login")
    browser.fill({"email": person["email"], "password": "not-the-password"})
    browser.submit("Sign in", expected_status=401)
    assert "The email or password is incorrect." in browser.text("[role=alert]")
    assert browser.find("#password").get_attribute("aria-invalid") == "true"
    browser.screenshot("sign-in-wrong-password")

    browser.fill({"email": person["email"], "password": person["password"]})
    browser.submit("Sign in")
    for _ in range(5):  # five wrong codes lock the second factor
        browser.fill({"code": "000000"})
        browser.submit("Verify", expected_status=401)
        assert "The code is wrong, expired or already used." in browser.text("[role=alert]")
    browser.fill({"code": Codes(person["totp_secret"]).next()})
    browser.submit("Verify", expected_status=429)
    assert "Too many wrong codes" in browser.text("[role=alert]")
    browser.screenshot("sign-in-code-locked")

    nobody = f"nobody-{uuid.uuid4().hex[:8]}@demo.tabular.test"
    for _ in range(3):  # the per-account quota of the module's server
        browser.open("/login")
        browser.fill({"email": nobody, "password": "guess-guess-guess"})
        browser.submit("Sign in", expected_status=401)
    browser.open("/login")
    browser.fill({"email": nobody, "password": "guess-guess-guess"})
    browser.submit("Sign in", expected_status=429)
    assert "Too many password attempts for this account" in browser.text("[role=alert]")
