"""GraphQL subscriptions (graphql-transport-ws only) and the router that authenticates
WebSocket connections at ``connection_init``.

A connection must present a bearer token — in the ``connection_init`` payload
(``{"Authorization": "Bearer …"}``, ``authorization`` or ``token``) or the upgrade
request's Authorization header — or it is closed with 4403. Each delivered record is
loaded under the subscriber's own scope, re-authenticated at that moment (a revoked
session or expired token ends the subscription), so nothing outside it ever goes out."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping

import strawberry
from fastapi import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.types.unset import UnsetType

from app.api.graphql.context import GraphQLContext, Info
from app.api.graphql.tips import TipNode
from app.domain.shared.auth import Authenticator
from app.domain.shared.errors import DomainError, NotAllowed, Unauthenticated
from app.domain.shared.scope import Scope
from app.domain.tips.errors import TipNotFound
from app.domain.tips.realtime import TipUpdates
from app.domain.tips.services import TipService


def _bearer(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def connection_token(ctx: GraphQLContext) -> str | None:
    """The token of a WebSocket connection: connection_init payload first, else header."""
    params = ctx.connection_params
    if isinstance(params, Mapping):
        for key in ("Authorization", "authorization"):
            if (token := _bearer(params.get(key))) is not None:
                return token
        raw = params.get("token")
        if isinstance(raw, str) and raw.strip():
            return raw.strip()
    if isinstance(ctx.request, WebSocket):
        return _bearer(ctx.request.headers.get("authorization", ""))
    return None


class ShouwangGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        token = connection_token(context)
        if token is None:
            raise ConnectionRejectionError({"code": Unauthenticated.code})
        context.use_token(token)
        try:
            await context.scope()
        except DomainError as e:
            raise ConnectionRejectionError({"code": e.code}) from None
        return await super().on_ws_connect(context)


async def _current_scope(ctx: GraphQLContext) -> Scope:
    """The subscriber's scope as of now (roles, jurisdiction and session re-read)."""
    token = connection_token(ctx)
    if token is None:
        raise Unauthenticated()
    authenticator: Authenticator = ctx.services.get_any(Authenticator)
    return await authenticator.authenticate(token, request_id=ctx.request_id)


@strawberry.type
class TipsSubscription:
    @strawberry.subscription(
        description="Officer console: each tip in your jurisdiction as it is submitted, "
        "assigned, given an outcome or disputed (staff only)."
    )
    async def tip_updated(self, info: Info) -> AsyncGenerator[TipNode, None]:
        ctx = info.context
        scope = await ctx.scope()
        if not scope.is_staff:
            raise NotAllowed()
        service = ctx.services.get(TipService)
        updates: TipUpdates = ctx.services.get_any(TipUpdates)
        feed = updates.subscribe()
        try:
            async for change in feed:
                # Cheap filter on the ids first; the load below is the authoritative check.
                if not scope.sees_station(change.station_id, change.district_id):
                    continue
                scope = await _current_scope(ctx)
                if not scope.is_staff:
                    raise NotAllowed()
                try:
                    view = await service.get(scope, change.tip_id)
                except TipNotFound:
                    continue
                yield TipNode.of(view)
        finally:
            await feed.aclose()
