"""`/api/webhooks`: who may register endpoints, where they may point, and whose they are."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import pytest
from sqlalchemy import func, select

from tabular.db import WebhookDelivery, WebhookEndpoint, Workspace
from tests.support.clients import app_client, assert_problem, fields_of, key, ok, workspace
from tests.support.db import committed_session
from tests.support.factories import new_webhook_endpoint
from tests.support.resources import create_survey
from tests.support.webhooks import FAST, Receiver, deliveries_once, register

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio

NOT_PUBLIC = [
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://169.254.169.254/latest/meta-data",  # a cloud's metadata service, link-local
    "http://[::ffff:127.0.0.1]/hook",
]


@pytest.mark.parametrize("url", NOT_PUBLIC)
async def test_a_url_reaching_a_loopback_private_or_link_local_address_is_refused(
    client: Client, demo: DemoData, url: str
) -> None:
    body = {"url": url, "events": ["response.created"]}
    answer = await client.post(
        "/api/webhooks", params={"workspace_id": workspace(demo, 0)}, json=body, headers=key(demo, "member", 0)
    )
    assert fields_of(answer) == (422, ["url"])


async def test_the_setting_lets_a_private_endpoint_register_and_the_worker_checks_again_before_sending(
    database_url: str, demo: DemoData
) -> None:
    member, space = key(demo, "member", 0), workspace(demo, 0)
    fast = FAST | {"webhooks_allow_private": False, "webhooks_retry_delay": 60.0}
    with Receiver() as receiver:
        async with app_client(database_url, **(fast | {"webhooks_allow_private": True})) as allowed:
            endpoint = await register(allowed, member, space, receiver.url, "survey.published")
        async with app_client(database_url, **fast) as refused:
            await create_survey(refused, member, space, publish=True)
            [delivery] = await deliveries_once(
                refused, member, endpoint["id"], until=lambda items: items and items[0]["last_error"]
            )
    assert receiver.received.empty()
    assert delivery["status"] == "pending"  # retried later: the name may resolve elsewhere by then
    refusal = "not sent: the URL resolves to 127.0.0.1, a loopback, private or link-local address"
    assert delivery["last_error"] == refusal


async def test_a_client_cannot_register_list_or_read_endpoints(client: Client, demo: DemoData) -> None:
    space = workspace(demo, 0)
    client_key = key(demo, "client")
    body = {"url": "https://93.184.216.34/hook", "events": ["response.created"]}
    created = await client.post("/api/webhooks", params={"workspace_id": space}, json=body, headers=client_key)
    assert_problem(created, 403, "role_forbidden")
    assert_problem(await client.get("/api/webhooks", headers=client_key), 403, "role_forbidden")
    endpoint = await register(client, key(demo, "member", 0), space, "https://93.184.216.34/hook")
    assert_problem(await client.get(f"/api/webhooks/{endpoint['id']}", headers=client_key), 403, "role_forbidden")


async def test_another_organizations_endpoint_is_not_found(
    client: Client, demo: DemoData, other_tenant: Tenant, database_url: str
) -> None:
    async with committed_session(database_url) as session:
        away = await session.get_one(Workspace, other_tenant.workspace_id)
        endpoint = await new_webhook_endpoint(session, away)
    admin = key(demo, "admin")
    path = f"/api/webhooks/{endpoint.id}"
    for method, url, body in [
        ("GET", path, None),
        ("GET", f"{path}/deliveries", None),
        ("POST", f"{path}/resend", {"delivery_id": str(endpoint.id)}),
        ("DELETE", path, None),
    ]:
        assert_problem(await client.request(method, url, json=body, headers=admin), 404, "not_found")
    assert ok(await client.get("/api/webhooks", headers=admin))["items"] == []


async def test_the_secret_is_shown_once_stored_nowhere_and_an_endpoint_is_listed_read_and_deleted(
    client: Client, demo: DemoData, database_url: str
) -> None:
    member, space = key(demo, "member", 0), workspace(demo, 0)
    created = await register(client, member, space, "https://93.184.216.34/hook", "survey.closed")

    listed = ok(await client.get("/api/webhooks", params={"workspace_id": space}, headers=member))
    read = ok(await client.get(f"/api/webhooks/{created['id']}", headers=member))

    assert created["secret"] not in str(listed) + str(read)
    assert read == {key: value for key, value in created.items() if key != "secret"}
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    async with committed_session(database_url) as session:
        stored = str((await session.execute(select(WebhookEndpoint.__table__))).all())  # every column, as stored
    assert created["id"].replace("-", "") in stored.replace("-", "")
    assert created["secret"].removeprefix("whsec_") not in stored
    assert (await client.delete(f"/api/webhooks/{created['id']}", headers=member)).status_code == 204
    assert_problem(await client.get(f"/api/webhooks/{created['id']}", headers=member), 404, "not_found")


async def test_deleting_an_endpoint_deletes_its_queued_deliveries(
    client: Client, demo: DemoData, database_url: str
) -> None:
    member, space = key(demo, "member", 0), workspace(demo, 0)
    created = await register(client, member, space, "https://93.184.216.34/hook", "survey.published")
    await create_survey(client, member, space, publish=True)
    of_endpoint = select(func.count()).where(WebhookDelivery.endpoint_id == UUID(created["id"]))
    async with committed_session(database_url) as session:
        assert await session.scalar(of_endpoint) == 1
    assert (await client.delete(f"/api/webhooks/{created['id']}", headers=member)).status_code == 204
    async with committed_session(database_url) as session:
        assert await session.scalar(of_endpoint) == 0
