"""Idempotency-Key for creates (IETF draft): same key + same body replays the first
response; same key + other body is 422; same key still in flight is 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from app.api.container import services_of
from app.domain.shared.errors import Conflict, InvalidInput
from app.domain.shared.idempotency import (
    BeginOutcome,
    IdempotencyStore,
    Receipt,
    ReceiptKeyTaken,
    StoredResponse,
)

MAX_KEY_LENGTH = 255
_REPLAYED_HEADERS = ("location", "etag", "content-type")


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency.key_reused"
    message_en = "This Idempotency-Key was already used with a different request."
    message_zh = "该幂等键已用于不同的请求。"


class IdempotencyInFlight(Conflict):
    code = "idempotency.in_flight"
    message_en = "A request with this Idempotency-Key is still being processed."
    message_zh = "使用该幂等键的请求仍在处理中。"


def _hash(operation: str, payload: object) -> bytes:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{operation}\n{canonical}".encode()).digest()


def stored(response: Response) -> StoredResponse:
    """What a replay of ``response`` answers with."""
    headers = {k: v for k, v in response.headers.items() if k.lower() in _REPLAYED_HEADERS}
    return StoredResponse(response.status_code, headers, bytes(response.body))


R = TypeVar("R")


class KeyedRequest:
    """A request with an Idempotency-Key whose use case stores the key itself."""

    def __init__(
        self,
        store: IdempotencyStore,
        principal: str,
        key: str,
        operation: str,
        request_hash: bytes,
        now: datetime,
    ) -> None:
        self._store = store
        self._args = (principal, key, operation, request_hash, now)
        self._rendered: tuple[object, Response] | None = None

    def receipt(self, render: Callable[[R], Response]) -> Receipt[R]:
        """The receipt for the use case: its result rendered by ``render`` is stored."""

        def store(result: R) -> StoredResponse:
            response = render(result)
            self._rendered = (result, response)
            return stored(response)

        return self._store.receipt(*self._args, store)

    def respond(self, result: R, render: Callable[[R], Response]) -> Response:
        """The response to ``result`` (the one already rendered for the receipt, if any)."""
        if self._rendered is not None and self._rendered[0] is result:
            return self._rendered[1]
        return render(result)


async def run_idempotent(
    request: Request,
    *,
    principal: str,
    operation: str,
    payload: object,
    handler: Callable[[], Awaitable[JSONResponse]],
    at_once: Callable[[KeyedRequest], Awaitable[Response]] | None = None,
) -> Response:
    """``at_once``: the handler of a use case that stores the key with its own write
    (``KeyedRequest.receipt``), tried first; a key it finds taken is decided as usual."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return await handler()
    key = key.strip().strip('"')
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            "Idempotency-Key must be 1–255 characters.",
            "Idempotency-Key 长度须为 1–255 个字符。",
            code="idempotency.key_invalid",
        )
    store = services_of(request).get_any(IdempotencyStore)
    request_hash = _hash(operation, payload)
    now = datetime.now(UTC)
    if at_once is not None:
        try:
            keyed = KeyedRequest(store, principal, key, operation, request_hash, now)
            return await at_once(keyed)
        except ReceiptKeyTaken:
            pass
    begun = await store.begin(principal, key, operation, request_hash, now)
    if begun.outcome == BeginOutcome.MISMATCH:
        raise IdempotencyKeyReused()
    if begun.outcome == BeginOutcome.IN_FLIGHT:
        raise IdempotencyInFlight()
    if begun.outcome == BeginOutcome.REPLAY and begun.response is not None:
        headers = dict(begun.response.headers)
        headers["Idempotent-Replayed"] = "true"
        return Response(
            content=begun.response.body,
            status_code=begun.response.status,
            headers=headers,
            media_type=headers.get("content-type", "application/json"),
        )
    try:
        response = await handler()
    except BaseException:
        await store.release(principal, key)
        raise
    if 200 <= response.status_code < 300:
        await store.complete(principal, key, stored(response))
    else:
        await store.release(principal, key)
    return response
