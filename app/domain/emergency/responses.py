"""A member's response to an alert (响应), one per alerted member.

alerted → accepted / declined; accepted → on_my_way → on_scene → stood_down. A member
already there may report on_scene straight after accepting. Members stand themselves
down only after accepting (an alerted member who cannot come declines); the officer's
stand-down (or the incident's resolution or cancellation) stands down every response
that is not final, alerted ones included. Declined and stood_down are final: a member
who declined cannot accept later (they would be alerted again by a new incident).
Every step is timestamped and no step is earlier than the one before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.domain.emergency.errors import ResponseInvalidTransition, StepOutOfOrder


class ResponseStatus(StrEnum):
    ALERTED = "alerted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ON_MY_WAY = "on_my_way"
    ON_SCENE = "on_scene"
    STOOD_DOWN = "stood_down"


RESPONSE_LABELS: dict[ResponseStatus, str] = {
    ResponseStatus.ALERTED: "已通知",
    ResponseStatus.ACCEPTED: "已接受",
    ResponseStatus.DECLINED: "已拒绝",
    ResponseStatus.ON_MY_WAY: "正在赶往",
    ResponseStatus.ON_SCENE: "已到场",
    ResponseStatus.STOOD_DOWN: "已解除",
}

FINAL = frozenset({ResponseStatus.DECLINED, ResponseStatus.STOOD_DOWN})
# Statuses of someone who said yes (and has not been stood down).
COMMITTED = frozenset({ResponseStatus.ACCEPTED, ResponseStatus.ON_MY_WAY, ResponseStatus.ON_SCENE})

_BY_MEMBER: dict[ResponseStatus, frozenset[ResponseStatus]] = {
    ResponseStatus.ALERTED: frozenset({ResponseStatus.ACCEPTED, ResponseStatus.DECLINED}),
    ResponseStatus.ACCEPTED: frozenset(
        {ResponseStatus.ON_MY_WAY, ResponseStatus.ON_SCENE, ResponseStatus.STOOD_DOWN}
    ),
    ResponseStatus.ON_MY_WAY: frozenset({ResponseStatus.ON_SCENE, ResponseStatus.STOOD_DOWN}),
    ResponseStatus.ON_SCENE: frozenset({ResponseStatus.STOOD_DOWN}),
}


@dataclass(frozen=True, slots=True)
class ResponseStep:
    status: ResponseStatus
    at: datetime
    by_officer: bool = False  # a stand-down by the officer, not the member


@dataclass(slots=True)
class Response:
    member_id: uuid.UUID
    unit_id: uuid.UUID | None  # the unit alerted through, if any
    ring: int
    steps: list[ResponseStep] = field(default_factory=list)

    @classmethod
    def alerted(
        cls, member_id: uuid.UUID, unit_id: uuid.UUID | None, ring: int, at: datetime
    ) -> Response:
        return cls(member_id, unit_id, ring, [ResponseStep(ResponseStatus.ALERTED, at)])

    @property
    def status(self) -> ResponseStatus:
        return self.steps[-1].status

    @property
    def alerted_at(self) -> datetime:
        return self.steps[0].at

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    def at_of(self, status: ResponseStatus) -> datetime | None:
        return next((s.at for s in self.steps if s.status == status), None)

    @property
    def accepted(self) -> bool:
        """Said yes at some point (also when stood down since)."""
        return self.at_of(ResponseStatus.ACCEPTED) is not None

    @property
    def answered(self) -> bool:
        return self.accepted or self.status == ResponseStatus.DECLINED

    def _append(self, step: ResponseStep) -> None:
        if step.at < self.steps[-1].at:
            raise StepOutOfOrder()
        self.steps.append(step)

    def move(self, to: ResponseStatus, at: datetime) -> ResponseStep:
        """A step the member reports."""
        if to not in _BY_MEMBER.get(self.status, frozenset()):
            raise ResponseInvalidTransition()
        step = ResponseStep(to, at)
        self._append(step)
        return step

    def stand_down_by_officer(self, at: datetime) -> ResponseStep | None:
        """Stood down by the officer; nothing for a final response."""
        if self.is_final:
            return None
        step = ResponseStep(ResponseStatus.STOOD_DOWN, max(at, self.steps[-1].at), True)
        self._append(step)
        return step
