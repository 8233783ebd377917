"""Composition root: ``create_app(settings)`` wires adapters to ports. Nothing happens at
import time."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.api.container import Services
from app.api.errors import install_error_handlers
from app.api.graphql.context import GraphQLContext
from app.api.graphql.schema import build_schema
from app.api.graphql.subscriptions import ShouwangGraphQLRouter
from app.api.health import router as health_router
from app.api.input_guard import RejectNulCharacters
from app.api.observability import RequestContext
from app.api.rest.routes import ROUTERS
from app.bootstrap import wiring
from app.bootstrap.platform import Platform, build_platform, wire_platform
from app.domain.shared.clock import Clock
from app.settings import Settings

# Allocations (net of frees) between young-generation collections; CPython's default is 700.
YOUNG_GC_THRESHOLD = 10_000

API_DESCRIPTION = """Shouwang (守望): community-safety volunteer platform.

Errors are RFC 9457 problem details. Send `Accept-Language: en` for English texts."""


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    platform = build_platform(settings, clock)
    services = Services()
    wire_platform(services, platform)
    wiring.wire_contexts(services, platform)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Everything built at start-up (modules, schemas, compiled statements) lives as
        # long as the process: move it out of the collector's sight, so the periodic
        # full collections triggered by request garbage do not walk it again and again
        # (they showed as latency spikes under load).
        gc.collect()
        gc.freeze()
        # Each request leaves a few hundred container objects alive at once, so the
        # default young threshold (700) started a collection every ~10 requests, with
        # older ones in tow: ~10 % of the server's CPU under load (bench/RESULTS.md).
        # Requests free their garbage by reference counting; cycles are rare.
        before = gc.get_threshold()
        gc.set_threshold(YOUNG_GC_THRESHOLD, *before[1:])
        try:
            yield
        finally:
            gc.set_threshold(*before)
        await platform.aclose()

    app = FastAPI(
        title="Shouwang API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if not settings.is_production else None,
        redoc_url=None,
    )
    app.state.services = services
    app.state.trusted_proxies = tuple(settings.trusted_proxies)
    install_error_handlers(app)

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[
            "ETag",
            "Location",
            "Retry-After",
            "RateLimit",
            "RateLimit-Policy",
            "X-Request-ID",
        ],
    )
    app.add_middleware(RejectNulCharacters)
    app.add_middleware(RequestContext)

    # The routes are registered as declared (each router carries its full prefix), not
    # through ``include_router``: since FastAPI 0.137 an included router stays a node of
    # the route tree that every request walks, matching its routes twice over (to find
    # the router, then the route), about 90 µs a request on the officer queue. The paths
    # are tried in this order; FastAPI's dependency overrides do not reach these routes.
    for router in (health_router, *ROUTERS):
        app.router.routes.extend(router.routes)

    schema = build_schema(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
        introspection=not settings.is_production,
    )
    graphql_app = ShouwangGraphQLRouter(
        schema,
        path="/graphql",
        graphql_ide="graphiql" if settings.graphiql else None,
        context_getter=_context_getter(services),
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        allow_queries_via_get=False,
    )
    app.include_router(graphql_app, include_in_schema=False)
    return app


def _context_getter(services: Services) -> Callable[[], GraphQLContext]:
    def get_context() -> GraphQLContext:
        return GraphQLContext(services)

    return get_context


def platform_of(app: FastAPI) -> Platform:
    return app.state.services.get(Platform)  # type: ignore[no-any-return]
