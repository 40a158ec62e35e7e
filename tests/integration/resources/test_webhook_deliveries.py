"""Webhook deliveries through the real app to a live receiver: signed, retried, re-sent, kept across a restart."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from tabular.db import DeliveryStatus, WebhookDelivery
from tabular.db.base import utcnow
from tabular.webhooks import InvalidSignature, verify
from tabular.webhooks.worker import MAX_ATTEMPTS, DeliveryWorker
from tests.support.clients import app_client, assert_problem, key, ok, workspace
from tests.support.db import committed_session, open_database
from tests.support.resources import answer_survey, create_survey
from tests.support.settings import TEST_AT_REST, make_settings
from tests.support.webhooks import FAST, Receiver, deliveries_once, register

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tabular.settings import Settings
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, **FAST)


async def test_a_public_submission_reaches_the_receiver_signed_with_the_endpoints_secret(
    client: Client, demo: DemoData
) -> None:
    member, space = key(demo, "member", 0), workspace(demo, 0)
    survey = await create_survey(client, member, space, publish=True)
    with Receiver() as receiver:
        endpoint = await register(client, member, space, receiver.url, "response.created")
        response_id = await answer_survey(client, survey)

        received = await receiver.next()

    verify(endpoint["secret"], received.headers, received.body)  # raises unless signed with this secret, now
    assert endpoint["secret"].startswith("whsec_")
    assert received.payload["type"] == "response.created"
    assert received.payload["data"] == {"survey_id": survey["id"], "response_id": response_id, "completed": False}
    assert received.headers["webhook-signature"].startswith("v1,")
    [delivery] = await deliveries_once(client, member, endpoint["id"], until=lambda items: items[0]["attempts"])
    assert received.headers["webhook-id"] == delivery["id"]


async def test_a_delivery_goes_to_the_checked_address_under_the_registered_name(client: Client, demo: DemoData) -> None:
    member, space = key(demo, "member", 0), workspace(demo, 0)
    with Receiver() as receiver:
        named = receiver.url.replace("127.0.0.1", "localhost")  # may resolve to ::1 first, where none listens
        await register(client, member, space, named, "survey.published")
        await create_survey(client, member, space, publish=True)

        received = await receiver.next()

    assert received.headers["host"] == named.removeprefix("http://").removesuffix("/hook")
    assert received.payload["type"] == "survey.published"


async def test_publishing_and_closing_a_survey_are_pushed_to_endpoints_that_asked(
    client: Client, demo: DemoData
) -> None:
    member, space = key(demo, "member", 0), workspace(demo, 0)
    with Receiver() as receiver:
        endpoint = await register(client, member, space, receiver.url, "survey.published", "survey.closed")
        survey = await create_survey(client, member, space, publish=True)
        await answer_survey(client, survey)  # not subscribed: never queued
        ok(await client.post(f"/api/surveys/{survey['id']}/close", headers=member))

        types = [(await receiver.next()).payload["type"] for _ in range(2)]
        queued = await deliveries_once(client, member, endpoint["id"], until=bool)

    assert sorted(types) == ["survey.closed", "survey.published"]
    assert sorted(item["event"] for item in queued) == ["survey.closed", "survey.published"]


async def test_a_forged_or_stale_delivery_is_refused_by_the_receiver_helper(client: Client, demo: DemoData) -> None:
    member, space = key(demo, "member", 0), workspace(demo, 0)
    survey = await create_survey(client, member, space, publish=True)
    with Receiver() as receiver:
        endpoint = await register(client, member, space, receiver.url, "response.created")
        other = await register(client, member, space, receiver.url, "survey.closed")  # gets nothing here
        await answer_survey(client, survey)
        received = await receiver.next()
    secret, headers, body = endpoint["secret"], received.headers, received.body
    timestamp = int(headers["webhook-timestamp"])
    forged_body = body.replace(b'"completed":false', b'"completed":true')
    assert forged_body != body

    for forged in [
        (secret, headers, forged_body),  # the body changed on the way
        (secret, headers | {"webhook-id": "msg_another"}, body),  # another message's id
        (secret, headers | {"webhook-timestamp": str(timestamp + 1)}, body),  # another time
        (other["secret"], headers, body),  # signed for another endpoint
        (secret, {k: v for k, v in headers.items() if k != "webhook-signature"}, body),
    ]:
        with pytest.raises(InvalidSignature):
            verify(*forged, now=timestamp)
    with pytest.raises(InvalidSignature, match="timestamp"):
        verify(secret, headers, body, now=timestamp + 301)  # a replay, five minutes on
    verify(secret, headers, body, now=timestamp + 299)


async def test_an_endpoint_that_answers_500_gets_the_same_delivery_again(client: Client, demo: DemoData) -> None:
    member, space = key(demo, "member", 0), workspace(demo, 0)
    survey = await create_survey(client, member, space, publish=True)
    with Receiver(statuses=iter([500])) as receiver:
        endpoint = await register(client, member, space, receiver.url, "response.created")
        await answer_survey(client, survey)
        first, second = await receiver.next(), await receiver.next()

    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    verify(endpoint["secret"], second.headers, second.body)
    [delivery] = await deliveries_once(
        client, member, endpoint["id"], until=lambda items: items[0]["status"] == "delivered"
    )
    assert (delivery["attempts"], delivery["last_status_code"]) == (2, 204)
    assert delivery["last_error"] == "the endpoint answered 500"


async def test_a_delivery_is_sent_again_on_request_with_its_id_and_body(client: Client, demo: DemoData) -> None:
    member, space = key(demo, "member", 0), workspace(demo, 0)
    survey = await create_survey(client, member, space, publish=True)
    with Receiver() as receiver:
        endpoint = await register(client, member, space, receiver.url, "response.created")
        await answer_survey(client, survey)
        first = await receiver.next()
        [delivery] = await deliveries_once(
            client, member, endpoint["id"], until=lambda items: items[0]["status"] == "delivered"
        )

        resent = await client.post(
            f"/api/webhooks/{endpoint['id']}/resend", json={"delivery_id": delivery["id"]}, headers=member
        )
        again = await receiver.next()

    assert (ok(resent, 202)["status"], ok(resent, 202)["attempts"]) == ("pending", 0)
    assert (again.headers["webhook-id"], again.body) == (first.headers["webhook-id"], first.body)


async def _queued_with_no_worker(database_url: str, demo: DemoData, receiver: Receiver) -> tuple[Any, str, Any]:
    """A response.created delivery queued by an app that runs no worker.

    Returns the endpoint, the response's id and the endpoint's deliveries as that app listed them.
    """
    member, space = key(demo, "member", 0), workspace(demo, 0)
    async with app_client(database_url, **(FAST | {"webhooks_worker": False})) as first:
        survey = await create_survey(first, member, space, publish=True)
        endpoint = await register(first, member, space, receiver.url, "response.created")
        response_id = await answer_survey(first, survey)
        queued = ok(await first.get(f"/api/webhooks/{endpoint['id']}/deliveries", headers=member))["items"]
    return endpoint, response_id, queued


async def test_a_delivery_queued_before_a_restart_is_sent_by_the_next_app(database_url: str, demo: DemoData) -> None:
    with Receiver() as receiver:
        endpoint, response_id, queued = await _queued_with_no_worker(database_url, demo, receiver)
        assert receiver.received.empty()
        assert [(d["status"], d["attempts"]) for d in queued] == [("pending", 0)]

        async with app_client(database_url, **FAST):
            received = await receiver.next()

    verify(endpoint["secret"], received.headers, received.body)
    assert received.payload["data"]["response_id"] == response_id


async def test_a_delivery_claimed_by_a_worker_that_died_is_sent_once_its_lease_runs_out(
    database_url: str, demo: DemoData
) -> None:
    member = key(demo, "member", 0)
    with Receiver() as receiver:
        endpoint, _, _ = await _queued_with_no_worker(database_url, demo, receiver)
        async with open_database(database_url) as database:  # a worker of another process, which then dies
            worker = DeliveryWorker(database.config.create_session_maker(), make_settings(database_url), TEST_AT_REST)
            claim = await worker.claim()
            assert claim is not None
            claimed, _ = claim
        async with committed_session(database_url) as session:
            delivery = await session.get_one(WebhookDelivery, claimed)
            assert delivery.next_attempt_at > utcnow()  # leased
            delivery.next_attempt_at = utcnow() - dt.timedelta(seconds=1)  # the clock moved past the lease

        async with app_client(database_url, **FAST) as second:
            received = await receiver.next()
            [seen] = await deliveries_once(
                second, member, endpoint["id"], until=lambda items: items[0]["status"] == "delivered"
            )

    assert received.headers["webhook-id"] == str(claimed)
    assert seen["attempts"] == 2  # the lost attempt counts


async def test_a_failing_delivery_waits_twice_as_long_each_time_then_fails_and_is_resent_on_request(
    database_url: str, demo: DemoData
) -> None:
    """The waits are read off the row (`next_attempt_at` against the attempt's `updated_at`), not timed.

    Each wait is an hour or more, so the test makes the delivery due itself; until it has failed for good, it
    is pending, and a resend is a 409 (it may be being sent that moment).
    """
    member, space = key(demo, "member", 0), workspace(demo, 0)
    hour = 3600.0
    with Receiver(statuses=iter([500] * MAX_ATTEMPTS)) as receiver:
        async with app_client(database_url, **(FAST | {"webhooks_retry_delay": hour})) as client:
            survey = await create_survey(client, member, space, publish=True)
            endpoint = await register(client, member, space, receiver.url, "response.created")
            await answer_survey(client, survey)
            waits = []
            for attempt in range(1, MAX_ATTEMPTS + 1):
                await receiver.next()
                [delivery] = await deliveries_once(
                    client, member, endpoint["id"],
                    until=lambda items, n=attempt: items[0]["attempts"] == n and items[0]["last_status_code"] == 500,
                )  # fmt: skip
                async with committed_session(database_url) as session:
                    row = await session.get_one(WebhookDelivery, UUID(delivery["id"]))
                    if row.status is DeliveryStatus.PENDING:
                        waits.append((row.next_attempt_at - row.updated_at).total_seconds())
                        row.next_attempt_at = utcnow() - dt.timedelta(seconds=1)  # due now
                if attempt == 1:
                    resend = {"delivery_id": delivery["id"]}
                    pending = await client.post(f"/api/webhooks/{endpoint['id']}/resend", json=resend, headers=member)
                    assert_problem(pending, 409, "delivery_pending")
            [failed] = await deliveries_once(
                client, member, endpoint["id"], until=lambda items: items[0]["status"] == "failed"
            )
            resent = await client.post(
                f"/api/webhooks/{endpoint['id']}/resend", json={"delivery_id": failed["id"]}, headers=member
            )
            again = await receiver.next()

    assert waits == [hour * 2**n for n in range(MAX_ATTEMPTS - 1)]
    assert (failed["attempts"], failed["next_attempt_at"]) == (MAX_ATTEMPTS, None)
    assert (ok(resent, 202)["status"], ok(resent, 202)["attempts"]) == ("pending", 0)
    assert again.headers["webhook-id"] == failed["id"]
