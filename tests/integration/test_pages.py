"""The account pages over HTTP: the same CSRF rules as the API (a form carries the token), sign-in in two steps,
a strict Content-Security-Policy, the auth quota on forms that submit credentials. The browser tests
(`tests/browser/`) walk the same pages in Chromium."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pyotp
import pytest

from tabular.page_headers import PAGE_HEADERS
from tabular.settings import RateSpec
from tests.support.api_keys import x_api_key
from tests.support.clients import Client, api_key, app_client, assert_problem, otp, user
from tests.support.sessions import NEW_PASSWORD, PASSWORD, new_account, set_cookies

if TYPE_CHECKING:
    from tabular.demo import DemoData, DemoUser

pytestmark = pytest.mark.anyio

HTML = {"Accept": "text/html,application/xhtml+xml"}


async def login_token(client: Client) -> str:
    page = await client.get("/login", headers=HTML)
    found = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def test_pages_load_only_their_own_script_and_styles_under_a_strict_policy(client: Client) -> None:
    for path in ("/", "/login"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "default-src 'none'" in policy
        assert "unsafe-inline" not in policy
        assert re.findall(r"<script(?![^>]*\bsrc=)", response.text) == [], "no inline script"
        addresses = re.findall(r'(?:src|href|action)="([^"]*)"', response.text)
        assert addresses
        assert [a for a in addresses if not a.startswith(("/", "#"))] == []
    script = await client.get("/static/pages.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


async def test_a_page_without_a_session_sends_a_browser_to_sign_in_and_a_script_a_problem(client: Client) -> None:
    response = await client.get("/account/security", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account/security"
    assert_problem(await client.get("/account/security"), 401, "unauthenticated")


async def test_a_pages_form_needs_the_sessions_csrf_token_as_a_field(demo: DemoData, client: Client) -> None:
    member = user(demo, "member")
    assert member.api_key is not None
    [own] = (await client.get("/api/keys", headers=api_key(member))).json()["items"]
    signed_in = await client.post(
        "/api/auth",
        json={"action": "login", "email": member.email, "password": member.password, "otp": otp(member.totp_secret)},
    )
    assert signed_in.status_code == 200
    csrf = signed_in.cookies["csrf_token"]
    path = f"/account/api-keys/{own['id']}/revoke"
    assert_problem(await client.post(path, data={"csrf_token": "not-" + csrf}), 403, "csrf_failed")
    assert_problem(await client.post(path, data={}), 403, "csrf_failed")
    stale = await client.post(path, data={"csrf_token": "not-" + csrf}, headers=HTML)
    assert stale.status_code == 403
    assert "This form has expired" in stale.text
    assert (await client.get("/api/auth", headers=x_api_key(member.api_key))).status_code == 200
    response = await client.post(path, data={"csrf_token": csrf}, headers=HTML)
    assert response.status_code == 200
    assert "is revoked" in response.text
    assert (await client.get("/api/auth", headers=x_api_key(member.api_key))).status_code == 401


async def test_the_sign_in_form_refuses_a_post_without_its_own_token(demo: DemoData, client: Client) -> None:
    admin = user(demo, "admin")
    form = {"email": admin.email, "password": admin.password}
    response = await client.post("/login", data=form | {"login_token": "forged"}, headers=HTML)
    assert response.status_code == 401
    assert "auth_token" not in response.cookies
    assert "sign_in_pending" not in response.cookies


async def test_sign_in_takes_the_password_then_the_code_and_counts_against_the_auth_quota(
    demo: DemoData, client: Client
) -> None:
    admin = user(demo, "admin")
    form = {"email": admin.email, "password": admin.password, "login_token": await login_token(client)}
    first = await client.post("/login", data=form, headers=HTML)
    assert first.status_code == 200
    assert '"auth"' in first.headers["ratelimit-policy"]
    assert "auth_token" not in first.cookies
    assert "Enter your code" in first.text
    wrong = await client.post("/login/code", data={"code": "000000"}, headers=HTML)
    assert wrong.status_code == 401
    assert "The code is wrong" in wrong.text
    second = await client.post(
        "/login/code", data={"code": otp(admin.totp_secret)}, headers=HTML, follow_redirects=False
    )
    assert second.status_code == 303
    assert second.headers["location"] == "/account/api-keys"
    token = second.cookies["auth_token"]
    who = await client.get("/api/auth", headers={"Authorization": f"Bearer {token}"})
    assert who.json()["data"]["mfa_verified"] is True


async def test_a_pending_sign_in_is_no_session(demo: DemoData, client: Client) -> None:
    admin = user(demo, "admin")
    form = {"email": admin.email, "password": admin.password, "login_token": await login_token(client)}
    first = await client.post("/login", data=form, headers=HTML)
    pending = first.cookies["sign_in_pending"]
    assert_problem(await client.get("/api/auth", headers={"Authorization": f"Bearer {pending}"}), 401)


async def test_an_account_without_mfa_signs_in_at_once_and_remember_me_keeps_it_30_days(
    database_url: str, client: Client
) -> None:
    account = await new_account(database_url, "pages-no-mfa@example.test")
    form = {"email": account.email, "password": PASSWORD, "remember_me": "on", "login_token": await login_token(client)}
    response = await client.post("/login", data=form, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert set_cookies(response)["auth_token"]["max-age"] == str(30 * 24 * 3600)


async def test_past_the_auth_quota_a_sign_in_form_answers_a_page_not_a_problem(database_url: str) -> None:
    async with app_client(database_url, auth_rate_limit=RateSpec(limit=1, window=900)) as client:
        form = {
            "email": "nobody@example.test",
            "password": "a-wrong-password",
            "login_token": await login_token(client),
        }
        assert (await client.post("/login", data=form, headers=HTML)).status_code == 401
        refused = await client.post("/login", data=form, headers=HTML)
        page = await client.get("/login", headers=HTML)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert "Too many requests came from your address" in refused.text
    assert "retry-after" in refused.headers
    for name in PAGE_HEADERS:  # what every page tells the browser: no framing, no outside script
        assert refused.headers[name] == page.headers[name]


async def signed_in_by_cookie(client: Client, who: DemoUser) -> str:
    """Sign `who` in through the API, leaving the session cookies in the client; the CSRF token its forms carry."""
    body = {"action": "login", "email": who.email, "password": who.password, "otp": otp(who.totp_secret)}
    response = await client.post("/api/auth", json=body)
    assert response.status_code == 200
    return str(response.cookies["csrf_token"])


async def test_a_key_made_in_the_page_has_the_forms_expiry_and_limits_and_rotates_with_its_grace_shown(
    demo: DemoData, client: Client
) -> None:
    admin = user(demo, "admin")
    csrf = await signed_in_by_cookie(client, admin)
    workspace = demo.workspaces[1].id
    form = {
        "csrf_token": csrf,
        "name": "page key",
        "expires_on": "2099-01-31",
        "read_only": "on",
        "workspace_id": workspace,
    }
    created = await client.post("/account/api-keys", data=form, headers=HTML)
    assert created.status_code == 200
    found = re.search(r'id="new-key" class="secret">(tp_\w+)<', created.text)
    assert found is not None
    who = (await client.get("/api/auth", headers=x_api_key(found.group(1)))).json()["data"]
    assert (who["read_only"], str(who["pinned_workspace_id"])) == (True, workspace)
    [made] = [
        k for k in (await client.get("/api/keys", headers=api_key(admin))).json()["items"] if k["name"] == "page key"
    ]
    assert made["expires_at"].startswith("2099-02-01T00:00:00")
    rotated = await client.post(f"/account/api-keys/{made['id']}/rotate", data={"csrf_token": csrf}, headers=HTML)
    assert rotated.status_code == 200
    assert "keeps working until" in rotated.text
    assert "(24 hours)" in rotated.text


async def test_recovery_codes_are_renewed_and_mfa_turned_off_in_the_page(demo: DemoData, client: Client) -> None:
    member = user(demo, "member")
    csrf = await signed_in_by_cookie(client, member)
    codes = pyotp.TOTP(member.totp_secret)
    step = int(time.time()) // 30
    renewed = await client.post(
        "/account/security/mfa/recovery-codes",
        data={"csrf_token": csrf, "code": codes.at((step + 1) * 30)},
        headers=HTML,
    )
    assert renewed.status_code == 200
    recovery = re.findall(r"\b[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}\b", renewed.text)
    assert len(set(recovery)) == 10
    wrong = await client.post("/account/security/mfa/disable", data={"csrf_token": csrf, "code": "0"}, headers=HTML)
    assert 'id="disable-code-error"' in wrong.text, "the refusal shows on the form that was sent"
    assert 'id="code-error"' not in wrong.text, "not on the recovery codes form's field of the same name"
    assert "<details open>" in wrong.text
    off = await client.post(
        "/account/security/mfa/disable", data={"csrf_token": csrf, "code": recovery[0]}, headers=HTML
    )
    assert off.status_code == 200
    assert "MFA is off" in off.text
    assert member.api_key is not None
    assert (await client.get("/api/auth", headers=x_api_key(member.api_key))).status_code == 401


async def test_the_password_changes_in_the_page_and_a_wrong_current_one_is_named(
    database_url: str, client: Client
) -> None:
    account = await new_account(database_url, "pages-password@example.test")
    signed_in = await client.post("/api/auth", json={"action": "login", "email": account.email, "password": PASSWORD})
    csrf = signed_in.cookies["csrf_token"]
    wrong = {"csrf_token": csrf, "current_password": "not-" + PASSWORD, "new_password": NEW_PASSWORD}
    refused = await client.post("/account/security/password", data=wrong, headers=HTML)
    assert refused.status_code == 422
    assert 'id="current_password" name="current_password" type="password" value="" required' in refused.text
    assert 'aria-invalid="true"' in refused.text
    right = wrong | {"current_password": PASSWORD}
    changed = await client.post("/account/security/password", data=right, headers=HTML)
    assert changed.status_code == 200
    assert "Your password is changed" in changed.text
    assert set_cookies(changed)["csrf_token"].value != csrf
    old = await client.post("/api/auth", json={"action": "login", "email": account.email, "password": PASSWORD})
    assert old.status_code == 401


async def test_the_organizations_keys_are_shown_a_page_at_a_time_and_a_revocation_stays_on_its_page(
    demo: DemoData, client: Client
) -> None:
    admin = user(demo, "admin")
    csrf = await signed_in_by_cookie(client, admin)
    every = (await client.get("/api/organization/keys?limit=200", headers=api_key(admin))).json()
    total = every["total"]
    assert total == len(demo.users) == len(every["items"])  # the demo gives each person one key

    first = await client.get("/account/organization-keys?limit=1", headers=HTML)
    assert first.status_code == 200
    assert f"Keys 1 to 1 of {total}." in first.text
    assert 'href="/account/organization-keys?limit=1&amp;offset=1" rel="next"' in first.text
    assert 'rel="prev"' not in first.text

    last_offset = total - 1
    last = await client.get(f"/account/organization-keys?limit=1&offset={last_offset}", headers=HTML)
    assert f"Keys {total} to {total} of {total}." in last.text
    previous = f'href="/account/organization-keys?limit=1&amp;offset={last_offset - 1}" rel="prev"'
    assert previous in last.text
    assert 'rel="next"' not in last.text
    shown = every["items"][last_offset]["key"]
    assert shown["prefix"] in last.text
    assert all(item["key"]["prefix"] not in last.text for item in every["items"][:last_offset])

    action = f"/account/organization-keys/{shown['id']}/revoke?limit=1&offset={last_offset}"
    assert action.replace("&", "&amp;") in last.text
    revoked = await client.post(action, data={"csrf_token": csrf}, headers=HTML)
    assert revoked.status_code == 200
    assert f"Keys {total} to {total} of {total}." in revoked.text  # the same page, not the first
    assert previous in revoked.text  # rooted: from the revocation's answer too, it leads to the list
    keys_now = (await client.get("/api/organization/keys?limit=200", headers=api_key(admin))).json()["items"]
    assert {item["key"]["id"]: item["key"]["status"] for item in keys_now}[shown["id"]] == "revoked"

    past = await client.get(f"/account/organization-keys?offset={total}", headers=HTML)
    assert past.status_code == 200
    assert f"No keys past number {total}" in past.text


async def test_a_pages_query_parameter_breaking_its_rule_is_a_page_for_a_browser_and_a_problem_for_a_script(
    demo: DemoData, client: Client
) -> None:
    await signed_in_by_cookie(client, user(demo, "admin"))
    for query in ("limit=0", "limit=abc", "offset=-1"):
        page = await client.get(f"/account/organization-keys?{query}", headers=HTML)
        assert page.status_code == 422
        assert page.headers["content-type"].startswith("text/html")
        assert "The request has invalid fields." in page.text
        assert ">limit: " in page.text or ">offset: " in page.text
        assert_problem(await client.get(f"/account/organization-keys?{query}"), 422, "validation_failed")


async def test_a_refused_key_form_comes_back_filled_in_as_it_was_sent(demo: DemoData, client: Client) -> None:
    csrf = await signed_in_by_cookie(client, user(demo, "admin"))
    workspace = demo.workspaces[1].id
    form = {
        "csrf_token": csrf,
        "name": "nightly export",
        "expires_on": "next tuesday",
        "read_only": "on",
        "workspace_id": workspace,
    }
    refused = await client.post("/account/api-keys", data=form, headers=HTML)
    assert refused.status_code == 422
    assert "The expiry is not a date." in refused.text
    assert 'value="nightly export"' in refused.text
    assert 'value="next tuesday"' in refused.text
    assert 'id="read_only" name="read_only" type="checkbox" checked' in refused.text
    assert f'value="{workspace}" selected' in refused.text
