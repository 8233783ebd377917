"""SQLAlchemy unit of work: one transaction per use case; events go to the outbox and
audit entries to the audit log inside that same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.shared.clock import Clock, SystemClock
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Scope
from app.infra.db.tables.platform import audit_log, outbox


def _bound(table: sa.Table, prefix: str, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: sa.bindparam(f"{prefix}{c}", type_=table.c[c].type) for c in columns}


# The usual write (one event, one audit entry) as ONE statement with bound parameters,
# built once so it is compiled once: the audit insert rides along as a data-modifying CTE.
_EVENT_AND_AUDIT = (
    sa.insert(outbox)
    .values(
        _bound(
            outbox,
            "o_",
            (
                "id",
                "event_type",
                "aggregate_type",
                "aggregate_id",
                "payload",
                "occurred_at",
                "request_id",
            ),
        )
    )
    .add_cte(
        sa.insert(audit_log)
        .values(
            _bound(
                audit_log,
                "a_",
                (
                    "at",
                    "actor_id",
                    "actor_role",
                    "action",
                    "record_type",
                    "record_id",
                    "request_id",
                    "detail",
                ),
            )
        )
        .cte("audit_entry")
    )
)


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
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()
            self._session = None

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
            {
                "actor_id": self.scope.account_id,
                "actor_role": self.scope.primary_role,
                "action": action,
                "record_type": record_type,
                "record_id": record_id,
                "request_id": self.scope.request_id,
                "detail": detail or {},
                "at": self.clock.now(),
            }
        )

    async def commit(self) -> None:
        events = [
            {
                "id": new_id(),
                "event_type": e.event_type,
                "aggregate_type": e.aggregate_type,
                "aggregate_id": e.aggregate_id,
                "payload": _jsonable(e.payload),
                "occurred_at": e.occurred_at,
                "request_id": self.scope.request_id,
            }
            for e in self._events
        ]
        audits = [{**a, "detail": _jsonable(a["detail"])} for a in self._audits]
        # Outbox rows and audit entries go in with one statement (the audit insert as a
        # data-modifying CTE when both are present): one round trip, same transaction.
        if len(events) == 1 and len(audits) == 1:
            params = {f"o_{k}": v for k, v in events[0].items()}
            params.update({f"a_{k}": v for k, v in audits[0].items()})
            await self.session.execute(_EVENT_AND_AUDIT, params)
        elif events and audits:
            await self.session.execute(sa.insert(outbox), events)
            await self.session.execute(sa.insert(audit_log), audits)
        elif events:
            await self.session.execute(sa.insert(outbox), events)
        elif audits:
            await self.session.execute(sa.insert(audit_log), audits)
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
