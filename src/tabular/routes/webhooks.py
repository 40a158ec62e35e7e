"""`/api/webhooks`: endpoints a workspace pushes events to, their deliveries, and sending one again."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from tabular.db import WebhookEndpoint, Workspace
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.schemas.common import Page, Pagination
from tabular.schemas.webhooks import (
    DeliveryView,
    Resend,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointView,
)
from tabular.services.webhooks import WebhookService
from tabular.settings import Settings
from tabular.vocabulary import Action, Resource

_ONE = "/{endpoint_id:uuid}"
STILL_PENDING = "The delivery is still pending: queued already (`delivery_pending`)"


class WebhookController(Controller):
    """Members and admins register endpoints in their workspaces.

    Each delivery is signed with the endpoint's secret (see the README, "Webhooks").
    """

    path = "/api/webhooks"
    tags = ["webhooks"]  # noqa: RUF012
    dependencies = {"webhooks": service(WebhookService), "endpoint": authorized(WebhookEndpoint)}  # noqa: RUF012

    @get("", **requires(Resource.WEBHOOK_ENDPOINT, Action.LIST), summary="List webhook endpoints you may see")
    async def list_webhook_endpoints(
        self,
        webhooks: NamedDependency[WebhookService],
        pagination: NamedDependency[Pagination],
        in_workspace: NamedDependency[Workspace | None],
    ) -> Page[WebhookEndpointView]:
        """Across your workspaces, or in one with `?workspace_id=`; never a secret."""
        return await webhooks.listing(in_workspace, pagination)

    @post(
        "",
        **requires(Resource.WEBHOOK_ENDPOINT, Action.CREATE),
        status_code=HTTP_201_CREATED,
        summary="Register a webhook endpoint",
    )
    async def create_webhook_endpoint(
        self,
        data: JSONBody[WebhookEndpointCreate],
        workspace: NamedDependency[Workspace],
        webhooks: NamedDependency[WebhookService],
        settings: NamedDependency[Settings],
    ) -> WebhookEndpointCreated:
        """In the workspace given by `?workspace_id=`; the answer holds the signing `secret`, shown this once.

        A URL whose host resolves to a loopback, private or link-local address is a 422 naming `url`.
        """
        return await webhooks.create(workspace, data, allow_private=settings.webhooks_allow_private)

    @get(_ONE, **requires(Resource.WEBHOOK_ENDPOINT, Action.READ, by="endpoint_id"), summary="A webhook endpoint")
    async def get_webhook_endpoint(
        self, endpoint: NamedDependency[WebhookEndpoint], webhooks: NamedDependency[WebhookService]
    ) -> WebhookEndpointView:
        """Its URL and events; the secret is never shown again."""
        return webhooks.view(endpoint)

    @delete(
        _ONE,
        **requires(Resource.WEBHOOK_ENDPOINT, Action.DELETE, by="endpoint_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a webhook endpoint",
    )
    async def delete_webhook_endpoint(
        self, endpoint: NamedDependency[WebhookEndpoint], webhooks: NamedDependency[WebhookService]
    ) -> None:
        """Its pending deliveries go with it."""
        await webhooks.delete(endpoint)

    @get(
        f"{_ONE}/deliveries",
        **requires(Resource.WEBHOOK_ENDPOINT, Action.READ, by="endpoint_id"),
        summary="List an endpoint's deliveries",
    )
    async def list_webhook_deliveries(
        self,
        endpoint: NamedDependency[WebhookEndpoint],
        webhooks: NamedDependency[WebhookService],
        pagination: NamedDependency[Pagination],
    ) -> Page[DeliveryView]:
        """Newest first: status, attempts, the last answer or error, and when it is tried next."""
        return await webhooks.deliveries(endpoint, pagination)

    @post(
        f"{_ONE}/resend",
        **requires(Resource.WEBHOOK_ENDPOINT, Action.UPDATE, by="endpoint_id", problems={409: STILL_PENDING}),
        status_code=HTTP_202_ACCEPTED,
        summary="Send a delivery again",
    )
    async def resend_webhook_delivery(
        self,
        endpoint: NamedDependency[WebhookEndpoint],
        data: JSONBody[Resend],
        webhooks: NamedDependency[WebhookService],
    ) -> DeliveryView:
        """A delivered or failed delivery is queued now, attempts counted anew (a pending one: 409; another's: 422)."""
        return await webhooks.resend(endpoint, data.delivery_id)
