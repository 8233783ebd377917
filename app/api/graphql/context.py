"""Per-request GraphQL context: services, scope (authenticated once per request or per
WebSocket connection) and DataLoaders built fresh for each request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

import strawberry
from fastapi import Request, WebSocket
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from app.api.container import Services
from app.api.context import client_ip, request_id_of, with_device
from app.api.errors import language
from app.domain.shared.auth import Authenticator
from app.domain.shared.errors import Unauthenticated
from app.domain.shared.scope import Scope

K = TypeVar("K")
V = TypeVar("V")


class GraphQLContext(BaseContext):
    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self._scope: Scope | None = None
        self._token: str | None = None
        self._loaders: dict[str, DataLoader[Any, Any]] = {}

    @property
    def http_request(self) -> Request | None:
        return self.request if isinstance(self.request, Request) else None

    @property
    def request_id(self) -> str:
        req = self.request
        if isinstance(req, Request):
            return request_id_of(req)
        return str(getattr(getattr(req, "state", None), "request_id", "") or "ws")

    @property
    def lang(self) -> str:
        req = self.request
        return language(req) if isinstance(req, Request) else "zh"

    @property
    def ip(self) -> str:
        req = self.request
        return client_ip(req) if isinstance(req, Request) else "0.0.0.0"  # noqa: S104

    def _bearer(self) -> str | None:
        if self._token is not None:
            return self._token
        req = self.request
        header = ""
        if isinstance(req, Request | WebSocket):
            header = req.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            return token.strip()
        return None

    def use_token(self, token: str) -> None:
        """Token from graphql-transport-ws connection_init payload."""
        self._token = token

    async def optional_scope(self) -> Scope | None:
        if self._scope is not None:
            return self._scope
        token = self._bearer()
        if token is None:
            return None
        authenticator = self.services.get_any(Authenticator)
        scope = await authenticator.authenticate(token, request_id=self.request_id)
        req = self.request
        headers = req.headers if isinstance(req, Request | WebSocket) else {}
        self._scope = with_device(scope, headers)
        return self._scope

    async def scope(self) -> Scope:
        scope = await self.optional_scope()
        if scope is None:
            raise Unauthenticated()
        return scope

    def loader(self, name: str, factory: Callable[[], DataLoader[K, V]]) -> DataLoader[K, V]:
        """Get or build the named DataLoader for this request (never shared across requests,
        since it caches what this caller's scope may see)."""
        if name not in self._loaders:
            self._loaders[name] = factory()
        return cast(DataLoader[K, V], self._loaders[name])

    def scoped_loader(
        self, name: str, fetch: Callable[[Scope, list[K]], Awaitable[Mapping[K, V]]]
    ) -> DataLoader[K, V | None]:
        """The named loader whose batches are one ``fetch`` in the caller's scope; keys the
        scope does not show load as None."""

        async def load(keys: list[K]) -> list[V | None]:
            found = await fetch(await self.scope(), keys)
            return [found.get(k) for k in keys]

        return self.loader(name, lambda: DataLoader(load_fn=load))

    def scoped_lists_loader(
        self, name: str, fetch: Callable[[Scope, list[K]], Awaitable[Mapping[K, list[V]]]]
    ) -> DataLoader[K, list[V]]:
        """Like ``scoped_loader`` for one-to-many reads: keys without items load as []."""

        async def load(keys: list[K]) -> list[list[V]]:
            found = await fetch(await self.scope(), keys)
            return [found.get(k, []) for k in keys]

        return self.loader(name, lambda: DataLoader(load_fn=load))


Info = strawberry.Info[GraphQLContext, None]
