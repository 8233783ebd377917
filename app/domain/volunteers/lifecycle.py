"""The volunteer lifecycle (统一管理) as a table of allowed status changes.

applied → (background check) → vetted | rejected → training → probation → active;
active/probation ↔ suspended; every non-final status → retired | expelled.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class VolunteerStatus(StrEnum):
    APPLIED = "applied"  # 已申请
    VETTED = "vetted"  # 背景审查通过
    REJECTED = "rejected"  # 审查未通过
    TRAINING = "training"  # 培训中
    PROBATION = "probation"  # 见习
    ACTIVE = "active"  # 在岗
    SUSPENDED = "suspended"  # 暂停
    RETIRED = "retired"  # 退出
    EXPELLED = "expelled"  # 除名


S = VolunteerStatus

FINAL: Final = frozenset({S.REJECTED, S.RETIRED, S.EXPELLED})
# Statuses whose record counts as "open": one per resident ID number and per account.
OPEN: Final = frozenset(set(S) - FINAL)
# Statuses in which a volunteer serves: may join teams and lead them.
SERVING: Final = frozenset({S.PROBATION, S.ACTIVE})

_LEAVE: Final = frozenset({S.RETIRED, S.EXPELLED})

ALLOWED: Final[dict[VolunteerStatus, frozenset[VolunteerStatus]]] = {
    S.APPLIED: frozenset({S.VETTED, S.REJECTED}) | _LEAVE,
    # A failed re-check before the volunteer has served rejects them.
    S.VETTED: frozenset({S.TRAINING, S.REJECTED}) | _LEAVE,
    S.TRAINING: frozenset({S.PROBATION, S.REJECTED}) | _LEAVE,
    S.PROBATION: frozenset({S.ACTIVE, S.SUSPENDED}) | _LEAVE,
    S.ACTIVE: frozenset({S.SUSPENDED}) | _LEAVE,
    # Back to the status held before the suspension only (checked on the entity).
    S.SUSPENDED: frozenset({S.ACTIVE, S.PROBATION}) | _LEAVE,
    S.REJECTED: frozenset(),
    S.RETIRED: frozenset(),
    S.EXPELLED: frozenset(),
}

# Vetted and rejected are outcomes of a recorded background check, never set by hand.
BY_CHECK_ONLY: Final = frozenset({S.VETTED, S.REJECTED})
REASON_REQUIRED: Final = frozenset({S.SUSPENDED, S.RETIRED, S.EXPELLED, S.REJECTED})


def is_allowed(current: VolunteerStatus, target: VolunteerStatus) -> bool:
    return target in ALLOWED[current]
