"""Ring dispatch (分圈调派) and channel escalation (实时 → 推送 → 短信)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.emergency.dispatch import (
    DEFAULT_CHANNELS,
    DEFAULT_POLICIES,
    Candidate,
    CandidateKind,
    Channel,
    ChannelDecision,
    ChannelStep,
    DispatchAction,
    DispatchDecision,
    Ring,
    RingPolicy,
    escalate_channels,
    plan_dispatch,
    policy_for,
)
from app.domain.emergency.glossary import Capability, IncidentType
from app.domain.shared.errors import InvalidInput

T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
FIRST_AID = frozenset({Capability.FIRST_AID})
POLICY = RingPolicy(
    (Ring(500, 2, 60), Ring(1000, 2, 90), Ring(2000, 3, 120)), needed_accepts=2, required=FIRST_AID
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cand(
    distance: float,
    caps: frozenset[Capability] = FIRST_AID,
    *,
    ring: int | None = None,
    accepted: bool = False,
    declined: bool = False,
    kind: CandidateKind = CandidateKind.MEMBER,
) -> Candidate:
    return Candidate(uuid.uuid4(), kind, distance, caps, ring, accepted, declined)


def plan(
    candidates: list[Candidate], now: float, ring: int = 0, started: float = 0, accepts: int = 0
) -> DispatchDecision:
    return plan_dispatch(
        POLICY,
        ring_index=ring,
        ring_started_at=at(started),
        accepts=accepts,
        candidates=candidates,
        now=at(now),
    )


def test_defaults_exist_for_every_type_and_are_valid() -> None:
    assert set(DEFAULT_POLICIES) == set(IncidentType)
    assert DEFAULT_POLICIES[IncidentType.DROWNING].required == {Capability.WATER_RESCUE}
    override = {IncidentType.FIRE: POLICY}
    assert policy_for(IncidentType.FIRE, override) is POLICY
    assert policy_for(IncidentType.MEDICAL, override) is DEFAULT_POLICIES[IncidentType.MEDICAL]


@pytest.mark.parametrize(
    ("rings", "needed", "channels"),
    [
        ((), 1, DEFAULT_CHANNELS),
        ((Ring(500, 2, 60), Ring(500, 2, 60)), 1, DEFAULT_CHANNELS),  # radii not increasing
        ((Ring(1000, 2, 60), Ring(500, 2, 60)), 1, DEFAULT_CHANNELS),
        ((Ring(0, 2, 60),), 1, DEFAULT_CHANNELS),
        ((Ring(500, 0, 60),), 1, DEFAULT_CHANNELS),
        ((Ring(500, 2, 0),), 1, DEFAULT_CHANNELS),  # timeout must be positive
        ((Ring(500, 2, 60),), 0, DEFAULT_CHANNELS),
        ((Ring(500, 2, 60),), 1, (ChannelStep(Channel.PUSH, 5),)),  # first not at 0 s
        (
            (Ring(500, 2, 60),),
            1,
            (ChannelStep(Channel.REALTIME, 0), ChannelStep(Channel.PUSH, 0)),
        ),
        (
            (Ring(500, 2, 60),),
            1,
            (ChannelStep(Channel.REALTIME, 0), ChannelStep(Channel.REALTIME, 30)),
        ),
    ],
)
def test_invalid_policies_are_refused(
    rings: tuple[Ring, ...], needed: int, channels: tuple[ChannelStep, ...]
) -> None:
    with pytest.raises(InvalidInput):
        RingPolicy(rings, needed, channels=channels)


def test_first_ring_alerts_nearest_qualified_up_to_its_size() -> None:
    near, nearer, far, untrained = cand(300), cand(100), cand(800), cand(50, frozenset())
    unit = cand(400, frozenset({Capability.FIRST_AID, Capability.FIRE}), kind=CandidateKind.UNIT)
    decision = plan([near, nearer, far, untrained, unit], now=0)
    assert decision.action == DispatchAction.ALERT
    assert [c.id for c in decision.alert] == [nearer.id, near.id]
    assert decision.check_at == at(60)
    assert not decision.widened


def test_nobody_is_alerted_twice_and_a_full_ring_waits() -> None:
    a, b, c = cand(100, ring=0), cand(200, ring=0), cand(300)
    decision = plan([a, b, c], now=10)
    assert decision.action == DispatchAction.WAIT
    assert decision.alert == ()


def test_a_decline_frees_a_place_in_the_ring() -> None:
    a, b, c = cand(100, ring=0, declined=True), cand(200, ring=0), cand(300)
    decision = plan([a, b, c], now=10)
    assert [x.id for x in decision.alert] == [c.id]


def test_enough_accepts_satisfy_the_dispatch() -> None:
    decision = plan([cand(100), cand(200)], now=500, accepts=2)
    assert decision.action == DispatchAction.SATISFIED
    assert decision.alert == ()


def test_ring_times_out_and_widens_to_the_next() -> None:
    a, b = cand(100, ring=0), cand(200, ring=0)
    c, d, e = cand(700), cand(900), cand(1500)
    assert plan([a, b, c, d, e], now=59.9).action == DispatchAction.WAIT
    decision = plan([a, b, c, d, e], now=60, accepts=1)
    assert decision.action == DispatchAction.ALERT
    assert decision.widened
    assert decision.ring_index == 1
    assert decision.ring_started_at == at(60)
    assert decision.check_at == at(150)
    assert [x.id for x in decision.alert] == [c.id, d.id]


def test_an_empty_ring_widens_at_once() -> None:
    far = cand(1800)
    decision = plan([far, cand(100, frozenset())], now=0)
    assert decision.action == DispatchAction.ALERT
    assert decision.ring_index == 2
    assert [x.id for x in decision.alert] == [far.id]


def test_unanswered_alerts_keep_the_ring_until_its_timeout() -> None:
    waiting = cand(100, ring=0)
    decision = plan([waiting], now=30)
    assert decision.action == DispatchAction.WAIT
    assert decision.ring_index == 0
    # Everyone answered no and nobody is left: widen without waiting.
    done = cand(100, ring=0, declined=True)
    early = plan([done], now=30)
    assert early.ring_index == 2
    assert early.action == DispatchAction.EXHAUSTED


def test_last_ring_timing_out_is_exhausted() -> None:
    a = cand(1900, ring=2)
    assert plan([a], now=100, ring=2, started=0).action == DispatchAction.WAIT
    decision = plan([a], now=120, ring=2, started=0)
    assert decision.action == DispatchAction.EXHAUSTED
    assert decision.alert == ()


def test_candidates_beyond_every_ring_are_never_alerted() -> None:
    decision = plan([cand(2001)], now=0)
    assert decision.action == DispatchAction.EXHAUSTED


# --- channels ------------------------------------------------------------------------------


def escalate(
    age: float, sent: tuple[Channel, ...] = (), *, connected: bool = True, answered: bool = False
) -> ChannelDecision:
    return escalate_channels(
        DEFAULT_CHANNELS, age_s=age, answered=answered, connected=connected, sent=sent
    )


def test_realtime_first_then_push_after_20_s_then_sms_after_60_s() -> None:
    first = escalate(0)
    assert first.send == (Channel.REALTIME,)
    assert first.next_in_s == 20
    assert escalate(19.9, (Channel.REALTIME,)).send == ()
    push = escalate(20, (Channel.REALTIME,))
    assert push.send == (Channel.PUSH,)
    assert push.next_in_s == 40
    assert escalate(59, (Channel.REALTIME, Channel.PUSH)).send == ()
    sms = escalate(60, (Channel.REALTIME, Channel.PUSH))
    assert sms.send == (Channel.SMS,)
    assert sms.next_in_s is None
    assert escalate(300, (Channel.REALTIME, Channel.PUSH, Channel.SMS)).send == ()


def test_each_channel_once_even_when_checked_late() -> None:
    late = escalate(75)
    assert late.send == (Channel.REALTIME, Channel.PUSH, Channel.SMS)


def test_answered_alert_escalates_no_further() -> None:
    decision = escalate(30, (Channel.REALTIME,), answered=True)
    assert decision.send == ()
    assert decision.next_in_s is None


def test_a_member_not_connected_gets_push_at_once_then_sms() -> None:
    first = escalate(0, connected=False)
    assert first.send == (Channel.PUSH,)
    assert first.next_in_s == 60
    assert escalate(30, (Channel.PUSH,), connected=False).send == ()
    assert escalate(60, (Channel.PUSH,), connected=False).send == (Channel.SMS,)
