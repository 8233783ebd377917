"""Ports of sync: the change feed reader and the reader of one's own ledger records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from app.domain.points.model import Entry
from app.domain.rewards.model import Reward
from app.domain.shared.scope import Scope
from app.domain.sync.model import ChangeSlice


class ChangeFeed(Protocol):
    async def read(self, scope: Scope, since: int, limit: int) -> ChangeSlice:
        """The caller's own changes after ``since`` in sequence order, only those no
        transaction still in flight could precede (see the SQL reader)."""
        ...


class OwnRecords(Protocol):
    """The caller's own points entries and rewards among ``ids`` (one read each; records
    of anyone else are simply not found)."""

    async def points_entries(
        self, scope: Scope, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Entry]: ...

    async def rewards(self, scope: Scope, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Reward]: ...
