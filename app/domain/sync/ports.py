"""Ports of sync: the change feed reader."""

from __future__ import annotations

from typing import Protocol

from app.domain.shared.scope import Scope
from app.domain.sync.model import ChangeSlice


class ChangeFeed(Protocol):
    async def read(self, scope: Scope, since: int, limit: int) -> ChangeSlice:
        """The caller's own changes after ``since`` in sequence order, only those no
        transaction still in flight could precede (see the SQL reader)."""
        ...
