"""The services the doors call, registered by the composition root (app/main.py).

A registry keyed by type keeps each bounded context's wiring in its own module."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from fastapi import Request

T = TypeVar("T")


class Services:
    def __init__(self) -> None:
        self._items: dict[Any, object] = {}

    def register(self, key: Any, instance: object) -> None:
        self._items[key] = instance

    def get(self, key: type[T]) -> T:
        try:
            return cast(T, self._items[key])
        except KeyError:
            raise LookupError(f"service not wired: {key!r}") from None

    def get_any(self, key: Any) -> Any:
        return self._items[key]


def services_of(request: Request) -> Services:
    return cast(Services, request.app.state.services)
