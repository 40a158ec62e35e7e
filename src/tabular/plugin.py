"""The one InitPlugin that assembles Tabular: routes, database, Redis, errors, OpenAPI and CORS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from advanced_alchemy.extensions.litestar import SQLAlchemyInitPlugin, SQLAlchemySerializationPlugin
from litestar import Request  # noqa: TC002 - Litestar resolves provider annotations at runtime
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.config.cors import CORSConfig
from litestar.datastructures import State  # noqa: TC002 - Litestar resolves provider annotations at runtime
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, Reference, SecurityScheme
from litestar.params import QueryParameter
from litestar.plugins import InitPluginProtocol
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig
from litestar.template import TemplateConfig
from redis.asyncio import Redis, RedisCluster

from tabular import __version__
from tabular.access_log import AccessLog, AccessLogMiddleware
from tabular.auth.engine import AuthEngine
from tabular.auth.identities import IdentityStore  # noqa: TC001 - Litestar reads the provider annotations
from tabular.auth.middleware import AuthenticationMiddleware
from tabular.auth.principal import Principal, rejection
from tabular.background import AfterTheDatabase
from tabular.db import Workspace
from tabular.db.config import make_db_config
from tabular.errors import TabularError, exception_handlers
from tabular.idempotency.middleware import IdempotencyMiddleware
from tabular.idempotency.stores import IdempotencyStore, Sealer
from tabular.policies.contract import HEADERS, DescribedStructs, operation_id
from tabular.policies.guard import authorized, policy_guard
from tabular.policies.inventory import check_inventory
from tabular.ratelimit.middleware import RateLimitMiddleware
from tabular.ratelimit.redis_backend import RedisBackend, ResilientBackend
from tabular.ratelimit.window import InProcessBackend, Quota
from tabular.readiness import StateChanges
from tabular.routes import ROUTE_HANDLERS
from tabular.routes.dependencies import provide_actor
from tabular.routes.docs import RedocPage, SwaggerPage
from tabular.routes.pages.rendering import TEMPLATES
from tabular.routes.prometheus import prometheus_metrics
from tabular.schemas.common import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Pagination
from tabular.security_headers import SecurityHeadersMiddleware
from tabular.services.health import announce
from tabular.settings import OTEL_EXTRA_MISSING, Settings, SettingsError
from tabular.transaction import TransactionMiddleware
from tabular.typed_body import TypedBodyRequest
from tabular.webhooks.worker import DeliveryWorker

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp


SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header",
                             description="An API key, tp_ + 48 characters"),
    "bearer": SecurityScheme(type="http", scheme="bearer",
                             description="An API key (tp_…) or a session token from POST /api/auth"),
    "cookie": SecurityScheme(type="apiKey", name="auth_token", security_scheme_in="cookie",
                             description="The session cookie; unsafe methods also need X-CSRF-Token"),
}  # fmt: skip


class TabularPlugin(InitPluginProtocol):
    """Wires every part of the application from one `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._access_log: AccessLogMiddleware | None = None
        self._security_headers: SecurityHeadersMiddleware | None = None

    def around_the_router(self, handler: ASGIApp) -> ASGIApp:
        """The app's ASGI handler inside the access log and the security headers (for `create_app`).

        Litestar runs an app's middleware after routing, so there the access log would miss every request no
        route matches (a scanner's 404s, a 405), and their answers would carry no `X-Request-ID` and none of
        the headers every answer must carry.
        """
        if self._access_log is None or self._security_headers is None:
            raise RuntimeError("the plugin has not configured an app yet")
        return self._access_log(self._security_headers(handler))

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Register what the application is made of; no part reads the environment itself."""
        settings = self.settings
        app_config.route_handlers.extend(ROUTE_HANDLERS)
        changes = StateChanges()  # what the readiness probe, the engine and the limiter last saw of each service
        db_config = make_db_config(settings, changes)
        # advanced-alchemy's SQLAlchemyPlugin is these two, added when its own turn comes; named here, the init
        # plugin (whose lifespan disposes the engine) is certain to come before `AfterTheDatabase`
        app_config.plugins.extend([SQLAlchemyInitPlugin(config=db_config), SQLAlchemySerializationPlugin()])
        app_config.plugins[:] = [  # in place: Litestar is iterating this list (an insert would call us again)
            DescribedStructs() if type(plugin) is StructSchemaPlugin else plugin for plugin in app_config.plugins
        ]
        # advanced-alchemy renames its state keys for every config after the first in a process and then
        # skips disposing the engine; dispose it here so no connection outlives the app.
        app_config.on_shutdown.append(db_config.get_engine().dispose)
        redis = _redis_client(settings)
        limiter = _limiter_backend(redis)
        password_attempts = Quota.of("account", settings.account_rate_limit)
        auth_engine = AuthEngine.build(settings, db_config.create_session_maker(), limiter, password_attempts)
        app_config.state.update({"settings": settings, "auth_engine": auth_engine, "db_config": db_config})
        webhooks = (
            DeliveryWorker(db_config.create_session_maker(), settings, auth_engine.at_rest)
            if settings.webhooks_worker
            else None
        )
        # after the SQLAlchemy plugin, so it stops its work before that plugin disposes the engine
        app_config.plugins.append(AfterTheDatabase(auth_engine.key_usage, webhooks))
        app_config.state.update({"redis": redis, "rate_limiter": limiter, "readiness_changes": changes})
        if redis is not None:
            if isinstance(redis, RedisCluster):
                app_config.on_startup.append(_initializer(redis))
            app_config.on_shutdown.append(redis.aclose)
        # Order matters: authentication first, so the limiter sees the principal (or the failed attempt);
        # the access log outside both, so it times and reports every request, refused ones included. The
        # transaction ends innermost, before any of them sees the answer: what they pass on is what was stored.
        app_config.middleware[:0] = [
            AuthenticationMiddleware(auth_engine.authenticator),
            RateLimitMiddleware(limiter, settings),
            IdempotencyMiddleware(_idempotency_store(db_config, settings), settings.trusted_proxies),
            TransactionMiddleware(db_config.session_scope_key),
        ]
        access_log = AccessLog(text=settings.log_format == "text") if settings.access_log else None
        if access_log is not None:
            app_config.on_startup.append(access_log.start)
            app_config.on_shutdown.append(access_log.stop)
        # Outside everything, the router included (`around_the_router`): the request's id is decided before
        # anything can answer (and log, or refuse, with it).
        self._access_log = AccessLogMiddleware(access_log, settings.trusted_proxies)
        # Around the router too, so every answer gets them: the limiter's 429, errors, and a 404 or 405 that
        # no route matched.
        self._security_headers = SecurityHeadersMiddleware(settings.trusted_proxies)
        if settings.metrics:  # requests by route template and status, around everything else
            app_config.route_handlers.append(prometheus_metrics)
            prometheus = PrometheusConfig(app_name="tabular", prefix="tabular", group_path=True, exclude=["^/metrics$"])
            app_config.middleware.insert(0, prometheus.middleware)
        if settings.otel:  # imported only then: with tracing off, neither its middleware nor its import
            _install_tracing(app_config)
        app_config.guards.append(policy_guard)
        app_config.before_request = require_json_body
        app_config.request_class = TypedBodyRequest  # bodies decoded straight into their Struct
        app_config.dependencies.update(
            {
                "settings": Provide(_provide_settings, sync_to_thread=False),
                "rate_limiter": Provide(_provide_rate_limiter, sync_to_thread=False),
                "identities": Provide(_provide_identities, sync_to_thread=False),
                "principal": Provide(_provide_principal, sync_to_thread=False),
                "actor": Provide(provide_actor, sync_to_thread=False),
                "workspace": authorized(Workspace),  # the workspace a route acts in, as the guard authorized it
                "in_workspace": authorized(Workspace, optional=True),  # a list's `?workspace_id=`, if sent
                "pagination": Provide(_provide_pagination, sync_to_thread=False),
            }
        )
        app_config.template_config = TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine)
        app_config.on_startup.append(check_inventory)
        app_config.on_startup.append(_announcer(settings, db_config, limiter, changes))
        app_config.exception_handlers.update(exception_handlers)
        app_config.openapi_config = OpenAPIConfig(
            title="Tabular",
            version=__version__,
            description="REST API of a survey platform with a declarative auth and permission engine.",
            path="/schema",
            render_plugins=[RedocPage(), SwaggerPage()],
            components=Components(security_schemes=SECURITY_SCHEMES, headers=dict(HEADERS)),
            use_handler_docstrings=True,
            operation_id_creator=operation_id,
        )
        if settings.cors_origins:
            app_config.cors_config = CORSConfig(allow_origins=list(settings.cors_origins), allow_credentials=True)
        app_config.debug = settings.debug
        return app_config


async def require_json_body(request: Request[Any, Any, Any]) -> None:
    """A handler that reads a body reads JSON, sent as JSON: 415 for another media type, 400 for none (unless optional).

    Refusing other types matters for security, not only tidiness: browsers send text/plain, form and
    multipart bodies cross-site without a CORS preflight, so a JSON endpoint that accepted them could be
    driven by any web page (a login CSRF, for one).
    """
    body = request.route_handler.parsed_fn_signature.parameters.get("data")
    if body is None or (body.is_optional and not await request.body()):
        return  # no body, or an optional one not sent
    media_type = request.content_type[0]
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise TabularError(
            "Send the body as JSON with Content-Type: application/json.", code="unsupported_media_type", status=415
        )
    if not await request.body():
        raise TabularError("This request needs a JSON body.", code="malformed_request")


def _install_tracing(app_config: AppConfig) -> None:
    """OpenTelemetry spans (`tracing`): `Settings.from_env` has checked the extra; a `Settings` made in code may not."""
    try:
        from tabular.tracing import install_tracing  # noqa: PLC0415 - the `otel` extra is optional
    except ImportError:
        raise SettingsError(f"TABULAR_OTEL: {OTEL_EXTRA_MISSING}") from None
    install_tracing(app_config)


def _provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def _provide_identities(state: State) -> IdentityStore:
    """The live identity cache (a plain class: Litestar has msgspec inspect a dependency's dataclass fields)."""
    identities: IdentityStore = state.auth_engine.identities
    return identities


def _provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated caller; the guard has already refused a request without one."""
    principal: Principal | None = request.scope.get("user")
    if principal is None:
        raise rejection(request.scope.get("auth"))
    return principal


def _provide_pagination(
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=MAX_LIMIT, description="Page size")] = DEFAULT_LIMIT,
    offset: Annotated[
        int, QueryParameter(name="offset", ge=0, le=MAX_OFFSET, description="Items to skip (at most a billion)")
    ] = 0,
) -> Pagination:
    """`?limit=&offset=` for every list; out-of-range values are a 422 naming the parameter."""
    return Pagination(limit=limit, offset=offset)


def _redis_client(settings: Settings) -> Redis | RedisCluster | None:
    """One client for the process: a single server, or a cluster found from one of its nodes."""
    if settings.redis_url is None:
        return None
    client = RedisCluster if settings.redis_cluster else Redis
    return client.from_url(settings.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)


def _provide_rate_limiter(state: State) -> ResilientBackend:
    backend: ResilientBackend = state.rate_limiter
    return backend


def _initializer(cluster: RedisCluster) -> Callable[[], Awaitable[object]]:
    """Learn the cluster's slot map at start-up, before traffic.

    Left to the first requests, many of them race to initialize the client at once, and some fail on
    connections another one closed (seen: 2-8 of 400 requests from 64 clients answered 500).
    """

    async def initialize() -> None:
        await cluster.initialize()

    return initialize


def _announcer(
    settings: Settings, db_config: SQLAlchemyAsyncConfig, limiter: ResilientBackend, changes: StateChanges
) -> Callable[[], Awaitable[str]]:
    """The start-up hook that says what this process runs on (`services.health.announce`)."""

    async def start_up() -> str:
        return await announce(settings, db_config.get_engine(), limiter, changes)

    return start_up


def _idempotency_store(db_config: SQLAlchemyAsyncConfig, settings: Settings) -> IdempotencyStore:
    """Where answers to `Idempotency-Key`s are kept, sealed: the database, in the transaction of the change."""
    return IdempotencyStore(db_config.create_session_maker(), Sealer(settings.secret_key))


def _limiter_backend(redis: Redis | RedisCluster | None) -> ResilientBackend:
    """Redis (falling back to this process during an outage) when configured; this process otherwise."""
    return ResilientBackend(RedisBackend(redis) if redis else None, InProcessBackend())
