"""OpenTelemetry tracing (`TABULAR_OTEL=true`, the `otel` extra): one server span per request, named by its route.

Litestar's integration puts the span around the router, so when it starts the route is not known yet: it is
named by the method alone (what the HTTP conventions say for a request no route matched), and renamed
`METHOD /route/{template}` with `http.route` once the router has answered. The span then carries what the
access log says of the request: the client's address (`client.address`, through trusted proxies), the
request id, the principal's user id and credential kind, and a refusal's code. Like the access log, it
leaves out the query string (a client may put a secret there).

Spans go to the tracer provider already set in the process (by `opentelemetry-instrument`, or a test's
in-memory exporter), or else to one made here that sends them by OTLP over HTTP, configured by the usual
`OTEL_EXPORTER_OTLP_*` variables (`OTEL_SERVICE_NAME` defaults to `tabular`). This module is imported only
when tracing is on: with it off, no middleware and no import cost.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryInstrumentationMiddleware
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.semconv.attributes.client_attributes import CLIENT_ADDRESS
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE

from tabular import __version__
from tabular.auth.client_ip import client_ip
from tabular.errors import REFUSAL_KEY
from tabular.request_ids import SCOPE_KEY

if TYPE_CHECKING:
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from tabular.auth.principal import Principal

USER_ID: Final = "enduser.id"
"""The conventions' name; their module of it is still incubating (private), so it is not imported."""
CREDENTIAL: Final = "tabular.credential"
REFUSAL: Final = "tabular.refusal"
REQUEST_ID: Final = "tabular.request_id"


def install_tracing(app_config: AppConfig) -> None:
    """Trace every request; a tracer provider made here is flushed and closed when the app shuts down."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider):  # none set in this process: send spans by OTLP
        service = os.environ.get("OTEL_SERVICE_NAME") or "tabular"
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service, SERVICE_VERSION: __version__}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        app_config.on_shutdown.append(provider.shutdown)
    config = OpenTelemetryConfig(
        tracer_provider=provider,
        scope_span_details_extractor=_by_method,
        exclude_spans=["receive", "send"],  # a span per ASGI message would cost more than the request's own
        middleware_class=TracingMiddleware,
    )
    # Litestar moves this middleware outside the router (and every other middleware) itself.
    app_config.middleware.append(config.middleware)


_HIDDEN_QUERY: Final = "tabular.query_string"
"""Where the scope keeps the query string while the span starts without it."""


class TracingMiddleware(OpenTelemetryInstrumentationMiddleware):
    """Litestar's OpenTelemetry middleware, hiding the query string from it and naming the span by the route."""

    def __init__(self, app: ASGIApp, config: OpenTelemetryConfig) -> None:
        super().__init__(app=_naming_the_span(app), config=config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start the span without the query string; the application gets it back (`_naming_the_span`)."""
        scope[_HIDDEN_QUERY] = scope.get("query_string", b"")  # type: ignore[typeddict-unknown-key]
        scope["query_string"] = b""
        await self.open_telemetry_middleware(scope, receive, send)  # type: ignore[arg-type]


def _naming_the_span(app: ASGIApp) -> ASGIApp:
    """The application, called inside the request's span, with its query string back.

    The span is described as the answer starts: it ends with the answer's last byte, before the application returns.
    """

    async def named(scope: Scope, receive: Receive, send: Send) -> None:
        hidden = scope.pop(_HIDDEN_QUERY, None)  # type: ignore[typeddict-item]
        if isinstance(hidden, bytes):
            scope["query_string"] = hidden
        span = trace.get_current_span()

        async def describing(message: Message) -> None:
            if message["type"] == "http.response.start" and span.is_recording():
                _describe(span, scope)
            await send(message)

        await app(scope, receive, describing)

    return named


def _describe(span: trace.Span, scope: Scope) -> None:
    # The instrumentation put the socket's peer in `net.peer.ip`: behind a trusted proxy, that is the proxy.
    # `client.address` is whom the access log and the rate limiter see.
    span.set_attribute(CLIENT_ADDRESS, client_ip(scope, scope["app"].state.settings.trusted_proxies))
    template = scope.get("path_template")
    if template:
        span.update_name(f"{scope.get('method', '')} {template}")
        span.set_attribute(HTTP_ROUTE, template)
    request_id = scope.get(SCOPE_KEY)
    if isinstance(request_id, str):
        span.set_attribute(REQUEST_ID, request_id)
    principal: Principal | None = scope.get("user")
    if principal is not None:
        span.set_attributes({USER_ID: str(principal.user_id), CREDENTIAL: principal.credential.value})
    refusal = scope.get(REFUSAL_KEY)
    if isinstance(refusal, str):
        span.set_attribute(REFUSAL, refusal)


def _by_method(scope: Scope) -> tuple[str, dict[str, Any]]:
    """The span's first name: the method alone, as the route is not known before the router has run."""
    return str(scope.get("method", "")) or scope["type"], {}
