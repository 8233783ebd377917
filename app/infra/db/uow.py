"""SQLAlchemy unit of work: one transaction per use case; events go to the outbox and
audit entries to the audit log inside that same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.shared.clock import Clock, SystemClock
from app.domain.shared.events import AuditNote, DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Scope
from app.infra.db import raw

# Outbox rows and audit entries of a unit of work go in with ONE statement on the driver
# connection (app/infra/db/raw.py), whatever their number: the rows travel as one JSON
# array each and are expanded by jsonb_populate_recordset (columns left out take their
# defaults). Separate texts per case: an INSERT of no rows would still fire the outbox's
# statement trigger (a needless wake-up of the workers).
EVENTS_FROM_JSON = """
    INSERT INTO outbox (id, event_type, aggregate_type, aggregate_id, payload, occurred_at,
                        request_id)
    SELECT id, event_type, aggregate_type, aggregate_id, payload, occurred_at, request_id
    FROM jsonb_populate_recordset(NULL::outbox, {}::jsonb)
"""
AUDITS_FROM_JSON = """
    INSERT INTO audit_log (at, actor_id, actor_role, action, record_type, record_id,
                           request_id, detail)
    SELECT at, actor_id, actor_role, action, record_type, record_id, request_id, detail
    FROM jsonb_populate_recordset(NULL::audit_log, {}::jsonb)
"""
_INSERT_EVENTS = EVENTS_FROM_JSON.format("$1")
_INSERT_AUDITS = AUDITS_FROM_JSON.format("$1")
_INSERT_EVENTS_AND_AUDITS = (
    "WITH audit_entries AS (" + AUDITS_FROM_JSON.format("$2") + ")" + _INSERT_EVENTS
)


def rows_json(rows: list[dict[str, Any]]) -> str:
    """Outbox rows or audit entries as the JSON array the statements above expand."""
    return orjson.dumps(rows, default=str).decode()


def outbox_rows(events: list[DomainEvent], request_id: str | None) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id(),
            "event_type": e.event_type,
            "aggregate_type": e.aggregate_type,
            "aggregate_id": e.aggregate_id,
            "payload": _jsonable(e.payload),
            "occurred_at": e.occurred_at,
            "request_id": request_id,
        }
        for e in events
    ]


def audit_entry(
    scope: Scope,
    at: datetime,
    action: str,
    record_type: str,
    record_id: uuid.UUID | None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An audit entry by the scope's account, role and request (JSON-ready detail)."""
    return {
        "actor_id": scope.account_id,
        "actor_role": scope.primary_role,
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "request_id": scope.request_id,
        "detail": _jsonable(detail or {}),
        "at": at,
    }


def audit_entries(scope: Scope, at: datetime, notes: Iterable[AuditNote]) -> list[dict[str, Any]]:
    """``audit_entry`` for each note a use case handed over."""
    return [audit_entry(scope, at, n.action, n.record_type, n.record_id, n.detail) for n in notes]


class SqlUnitOfWork:
    """Base class; each bounded context subclasses it to expose its repositories,
    built on ``self.session`` in ``_open_repositories``."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        scope: Scope,
        clock: Clock | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.scope = scope
        self.clock: Clock = clock or SystemClock()
        self._events: list[DomainEvent] = []
        self._audits: list[dict[str, Any]] = []
        self._session: AsyncSession | None = None
        self._committed = False
        # Run once the transaction has committed (e.g. dropping a cached principal).
        self._after_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    def _open_repositories(self) -> None:
        """Subclasses build their repositories here."""

    async def __aenter__(self) -> Self:
        self._session = self._session_factory()
        self._events.clear()
        self._audits.clear()
        self._after_commit.clear()
        self._committed = False
        self._open_repositories()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        self._session = None
        if not session.in_transaction():
            # Never started (only single statements on the native pool, or nothing):
            # it holds no connection, so there is nothing to roll back or close.
            return
        try:
            if not self._committed:
                await session.rollback()
        finally:
            await session.close()

    def add_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(
        self,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._audits.append(
            audit_entry(self.scope, self.clock.now(), action, record_type, record_id, detail)
        )

    async def commit(self) -> None:
        events = outbox_rows(self._events, self.scope.request_id)
        audits = self._audits
        if events and audits:
            await raw.execute(
                self.session, _INSERT_EVENTS_AND_AUDITS, rows_json(events), rows_json(audits)
            )
        elif events:
            await raw.execute(self.session, _INSERT_EVENTS, rows_json(events))
        elif audits:
            await raw.execute(self.session, _INSERT_AUDITS, rows_json(audits))
        await self.session.commit()
        self._events.clear()
        self._audits.clear()
        self._committed = True
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when (and only if) this unit of work commits."""
        self._after_commit.append(hook)

    async def rollback(self) -> None:
        self._events.clear()
        self._audits.clear()
        self._after_commit.clear()
        await self.session.rollback()


def _jsonable(value: Any) -> Any:
    """Payloads carry ids, dates and enums; make them JSON-safe."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
