"""Dispatch in rings (分圈调派) and channel escalation, as pure policies.

A ``RingPolicy`` per incident type (districts may override): rings of growing radius,
each with how many candidates it alerts and how long it waits; how many accepts the
incident needs; the capabilities every candidate must have; and the channel schedule.

``plan_dispatch`` decides, from the candidates (units and on-duty members with their
distance), what to do now:
- enough accepts → ``satisfied`` (nothing more is sent);
- a candidate qualifies for the current ring when within its radius, holding every
  required capability, and never alerted (nobody is alerted twice);
- the ring alerts the nearest qualifying candidates up to its ``max_alerts``; a decline
  frees its place, so the next nearest is alerted without waiting;
- the ring is over when its timeout has passed, or earlier when nobody is left to alert
  in it and no alert (of any ring) is still unanswered; then it widens to the next ring
  (which starts now) and plans again there;
- past the last ring → ``exhausted`` (the station is told there are not enough).

``escalate_channels`` decides which channels to use for one alert: realtime at 0 s, push
after 20 s, SMS after 60 s without an answer (defaults), each at most once. A member not
connected cannot get realtime: the first channel that does not need a connection is due
at once instead; later channels keep their own delays.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType
from typing import Final

from app.domain.emergency.errors import invalid
from app.domain.emergency.glossary import Capability, IncidentType

MAX_RINGS: Final = 6
MAX_RADIUS_M: Final = 20_000
MAX_ALERTS_PER_RING: Final = 200
MAX_TIMEOUT_S: Final = 3600
MAX_CHANNEL_DELAY_S: Final = 3600


class Channel(StrEnum):
    REALTIME = "realtime"  # WebSocket / GraphQL subscription
    PUSH = "push"
    SMS = "sms"

    @property
    def needs_connection(self) -> bool:
        return self == Channel.REALTIME


class CandidateKind(StrEnum):
    UNIT = "unit"
    MEMBER = "member"


@dataclass(frozen=True, slots=True)
class Ring:
    radius_m: int
    max_alerts: int
    timeout_s: int


@dataclass(frozen=True, slots=True)
class ChannelStep:
    channel: Channel
    delay_s: int  # after the alert, without an answer


DEFAULT_CHANNELS: Final = (
    ChannelStep(Channel.REALTIME, 0),
    ChannelStep(Channel.PUSH, 20),
    ChannelStep(Channel.SMS, 60),
)


@dataclass(frozen=True, slots=True)
class RingPolicy:
    """Validated on creation: 1 to ``MAX_RINGS`` rings with radii strictly increasing
    (0 < r ≤ 20 km), each alerting 1 to 200 and waiting 1 s to 1 h; at least one accept
    needed; channel delays start at 0, strictly increase, each channel at most once."""

    rings: tuple[Ring, ...]
    needed_accepts: int
    required: frozenset[Capability] = frozenset()
    channels: tuple[ChannelStep, ...] = DEFAULT_CHANNELS

    def __post_init__(self) -> None:
        if not 1 <= len(self.rings) <= MAX_RINGS:
            raise invalid(
                "rings_count",
                "rings",
                f"Give 1 to {MAX_RINGS} rings.",
                f"调派圈数须为1至{MAX_RINGS}。",
            )
        previous = 0
        for ring in self.rings:
            if not previous < ring.radius_m <= MAX_RADIUS_M:
                raise invalid(
                    "ring_radius",
                    "rings",
                    f"Ring radii increase strictly, up to {MAX_RADIUS_M} m.",
                    f"各圈半径须严格递增，且不超过{MAX_RADIUS_M}米。",
                )
            previous = ring.radius_m
            if not 1 <= ring.max_alerts <= MAX_ALERTS_PER_RING:
                raise invalid(
                    "ring_size",
                    "rings",
                    f"A ring alerts 1 to {MAX_ALERTS_PER_RING}.",
                    f"每圈通知人数须为1至{MAX_ALERTS_PER_RING}。",
                )
            if not 1 <= ring.timeout_s <= MAX_TIMEOUT_S:
                raise invalid(
                    "ring_timeout",
                    "rings",
                    f"A ring waits 1 to {MAX_TIMEOUT_S} s.",
                    f"每圈等待时间须为1至{MAX_TIMEOUT_S}秒。",
                )
        if self.needed_accepts < 1:
            raise invalid(
                "needed_accepts",
                "needed_accepts",
                "At least one accept is needed.",
                "所需响应人数至少为1。",
            )
        if not self.channels or self.channels[0].delay_s != 0:
            raise invalid(
                "channels_start",
                "channels",
                "The first channel is used at once (0 s).",
                "第一个通知渠道须立即（0秒）使用。",
            )
        if len({s.channel for s in self.channels}) != len(self.channels):
            raise invalid(
                "channel_twice",
                "channels",
                "Each channel at most once.",
                "每个通知渠道只能使用一次。",
            )
        delays = [s.delay_s for s in self.channels]
        if any(b <= a for a, b in pairwise(delays)) or delays[-1] > MAX_CHANNEL_DELAY_S:
            raise invalid(
                "channel_delays",
                "channels",
                "Channel delays increase strictly, up to an hour.",
                "各渠道延迟须严格递增，且不超过1小时。",
            )

    def ring(self, index: int) -> Ring:
        return self.rings[index]

    @property
    def last_ring(self) -> int:
        return len(self.rings) - 1


def _rings(*spec: tuple[int, int, int]) -> tuple[Ring, ...]:
    return tuple(Ring(r, n, t) for r, n, t in spec)


_STANDARD = _rings((500, 5, 60), (1000, 8, 90), (2000, 10, 120))

DEFAULT_POLICIES: Final[Mapping[IncidentType, RingPolicy]] = MappingProxyType(
    {
        # Violence: many hands quickly, short rings; no certificate to stand by.
        IncidentType.FIGHT: RingPolicy(_rings((300, 6, 45), (800, 10, 60), (1500, 12, 90)), 3),
        IncidentType.FIRE: RingPolicy(_STANDARD, 3, frozenset({Capability.FIRE})),
        IncidentType.DROWNING: RingPolicy(
            _rings((800, 5, 60), (1500, 8, 90), (3000, 10, 120)),
            2,
            frozenset({Capability.WATER_RESCUE}),
        ),
        # Many eyes matter more than certificates; wider, longer rings.
        IncidentType.LOST_CHILD: RingPolicy(
            _rings((500, 10, 60), (1500, 15, 120), (3000, 20, 180)), 4
        ),
        IncidentType.MEDICAL: RingPolicy(_STANDARD, 2, frozenset({Capability.FIRST_AID})),
        IncidentType.CROWD: RingPolicy(
            _rings((500, 8, 60), (1000, 12, 90), (2000, 15, 120)),
            4,
            frozenset({Capability.CROWD_CONTROL}),
        ),
        IncidentType.OTHER: RingPolicy(_STANDARD, 2),
    }
)


def policy_for(
    incident_type: IncidentType, overrides: Mapping[IncidentType, RingPolicy] | None = None
) -> RingPolicy:
    """The district's policy for the type, else the default."""
    if overrides and incident_type in overrides:
        return overrides[incident_type]
    return DEFAULT_POLICIES[incident_type]


@dataclass(frozen=True, slots=True)
class Candidate:
    id: uuid.UUID
    kind: CandidateKind
    distance_m: float
    capabilities: frozenset[Capability] = frozenset()
    alerted_ring: int | None = None  # None: not alerted yet
    accepted: bool = False
    declined: bool = False

    @property
    def alerted(self) -> bool:
        return self.alerted_ring is not None

    @property
    def waiting(self) -> bool:
        """Alerted and not answered yet."""
        return self.alerted and not (self.accepted or self.declined)


class DispatchAction(StrEnum):
    SATISFIED = "satisfied"
    ALERT = "alert"
    WAIT = "wait"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True, slots=True)
class DispatchDecision:
    action: DispatchAction
    ring_index: int
    ring_started_at: datetime
    alert: tuple[Candidate, ...] = ()
    widened: bool = False  # the ring index moved on (record it on the incident)
    check_at: datetime | None = None  # plan again at the latest then (the ring's end)


def plan_dispatch(
    policy: RingPolicy,
    *,
    ring_index: int,
    ring_started_at: datetime,
    accepts: int,
    candidates: Iterable[Candidate],
    now: datetime,
) -> DispatchDecision:
    """What to do now (see the module's rules)."""
    pool = list(candidates)
    if accepts >= policy.needed_accepts:
        return DispatchDecision(DispatchAction.SATISFIED, ring_index, ring_started_at)
    index, started, widened = ring_index, ring_started_at, False
    waiting = any(c.waiting for c in pool)
    while True:
        ring = policy.ring(index)
        ends = started + timedelta(seconds=ring.timeout_s)
        held = sum(1 for c in pool if c.alerted_ring == index and not c.declined)
        eligible = sorted(
            (
                c
                for c in pool
                if not c.alerted
                and c.distance_m <= ring.radius_m
                and policy.required <= c.capabilities
            ),
            key=lambda c: (c.distance_m, str(c.id)),
        )
        picks = tuple(eligible[: max(0, ring.max_alerts - held)])
        if now < ends and (picks or waiting):
            action = DispatchAction.ALERT if picks else DispatchAction.WAIT
            return DispatchDecision(action, index, started, picks, widened, ends)
        if index >= policy.last_ring:
            return DispatchDecision(DispatchAction.EXHAUSTED, index, started, (), widened)
        index, started, widened = index + 1, now, True


@dataclass(frozen=True, slots=True)
class ChannelDecision:
    send: tuple[Channel, ...]  # due now, in order
    next_in_s: float | None  # seconds from now until the next channel is due; None: none


def escalate_channels(
    steps: Iterable[ChannelStep],
    *,
    age_s: float,
    answered: bool,
    connected: bool,
    sent: Iterable[Channel] = (),
) -> ChannelDecision:
    """Channels due for an alert ``age_s`` seconds old (see the module's rules)."""
    if answered:
        return ChannelDecision((), None)
    done = frozenset(sent)
    usable = [s for s in steps if connected or not s.channel.needs_connection]
    if not connected and usable:
        usable[0] = ChannelStep(usable[0].channel, 0)
    due = tuple(s.channel for s in usable if s.delay_s <= age_s and s.channel not in done)
    later = [s.delay_s - age_s for s in usable if s.delay_s > age_s and s.channel not in done]
    return ChannelDecision(due, min(later) if later else None)
