"""Tips and their media: who may see a tip's photos, and attaching them on submission."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from app.domain.media.model import Attachment
from app.domain.media.ports import MediaRepository
from app.domain.shared.clock import Clock
from app.domain.shared.events import DomainEvent
from app.domain.shared.scope import Scope
from app.domain.tips.ports import TipsUnitOfWork

TIP_RECORD = "tip"  # the record type media objects are attached to


class TipMediaVisibility:
    """Registered with the media context for ``"tip"``: whoever may see the tip (station
    staff of its routing, or its named reporter; the same rule as ``TipService.get``) may
    see its media. One scoped existence query, nothing loaded."""

    def __init__(self, uow_factory: Callable[[Scope], TipsUnitOfWork]) -> None:
        self.uow_factory = uow_factory

    async def can_see(self, scope: Scope, attachment: Attachment) -> bool:
        if attachment.record_type != TIP_RECORD:
            return False
        async with self.uow_factory(scope) as uow:
            return await uow.tips.exists(attachment.record_id)


class UnauditedAttach:
    """The tip's unit of work as ``attach_media`` sees it for an ANONYMOUS tip: media's
    audit entries would put the sender's account next to the tip id, so they are dropped
    (the anonymous submission itself is not audited either). Events pass through."""

    def __init__(self, uow: TipsUnitOfWork) -> None:
        self._uow = uow
        self.media: MediaRepository = uow.media
        self.clock: Clock = uow.clock

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def commit(self) -> None:
        """The tip's own use case commits, never the media step."""

    async def rollback(self) -> None:
        await self._uow.rollback()

    def add_event(self, event: DomainEvent) -> None:
        self._uow.add_event(event)

    def audit(
        self,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        return None
