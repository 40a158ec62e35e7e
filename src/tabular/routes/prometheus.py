"""`/metrics`: Prometheus' text format, for the networks `TABULAR_METRICS_ALLOW` names (registered when enabled)."""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from tabular.auth.client_ip import client_ip
from tabular.errors import NotFound
from tabular.policies.requirements import public
from tabular.settings import Settings


@get("/metrics", **public(rate_limited=False), include_in_schema=False, sync_to_thread=False)
def prometheus_metrics(request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> Response[bytes]:
    """Every metric of this process; a 404 (as if there were none) to a client outside the allowed networks.

    Not rate limited: a scraper polls on its own schedule and must not eat a user's quota or be refused.
    """
    try:
        address = ipaddress.ip_address(client_ip(request.scope, settings.trusted_proxies))
    except ValueError:  # a peer that is not an address (a unix socket, a test transport): not on any network
        raise NotFound from None
    if not any(address in ipaddress.ip_network(network) for network in settings.metrics_allow):
        raise NotFound
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
