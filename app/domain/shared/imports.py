"""Bulk import results: every row is either accepted or rejected with its reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RejectedRow:
    ref: str  # row number or feature index/code, as the operator sees it in the file
    reason: str


@dataclass(slots=True)
class ImportReport:
    total: int = 0
    accepted: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    def accept(self) -> None:
        self.accepted += 1

    def reject(self, ref: str, reason: str) -> None:
        self.rejected.append(RejectedRow(ref, reason))


# Called after each row with (done, total) so the CLI can draw a progress bar.
Progress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    return None
