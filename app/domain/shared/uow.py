"""The unit-of-work port shared by every bounded context.

A use case opens one, works, and commits once. Events recorded with ``add_event`` and
audit entries written with ``audit`` land in the same transaction as the change.
Each context extends this protocol with the repositories it needs.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any, Protocol, Self

from app.domain.shared.events import DomainEvent


class UnitOfWork(Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    def add_event(self, event: DomainEvent) -> None: ...

    def audit(
        self,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append an audit entry (who, role, request id come from the unit's scope)."""
        ...
