"""Rules of fraud review: Hamming distance, which reports are flagged and with what
evidence, resolving once, velocity limits per account and device, and the handlers that
raise flags once and reverse points on confirmed fraud."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import pytest

from app.domain.delivery.model import OutboxEvent
from app.domain.review.errors import FlagAlreadyResolved
from app.domain.review.handlers import ReviewHandlers
from app.domain.review.model import (
    Decision,
    DeviceActivity,
    FlagKind,
    FlagStatus,
    RecordRef,
    ReviewFlag,
    device_flag,
    device_suspicious,
    hamming,
    photo_flag,
    to_signed64,
)
from app.domain.review.velocity import (
    VELOCITY_WINDOW,
    Recent,
    Submission,
    SubmissionVelocity,
    VelocityLimits,
    retry_after,
)
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import InvalidInput, RateLimited
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
STATION = uuid.uuid4()
DISTRICT = uuid.uuid4()


def test_hamming_distance_of_signed_and_unsigned_hashes() -> None:
    assert hamming(0, 0) == 0
    assert hamming(0, -1) == 64
    assert hamming(0b1011, 0b0001) == 2
    unsigned = 0xF000_0000_0000_0001
    assert to_signed64(unsigned) < 0
    assert hamming(to_signed64(unsigned), unsigned) == 0
    assert hamming(to_signed64(unsigned), 1) == 4
    assert to_signed64(5) == 5


def test_photo_flag_names_other_records_only() -> None:
    me = RecordRef("tip", uuid.uuid4())
    other = RecordRef("hazard", uuid.uuid4())
    assert photo_flag(new_id(), me, STATION, DISTRICT, [], NOW) is None
    assert photo_flag(new_id(), me, STATION, DISTRICT, [me], NOW) is None
    flag = photo_flag(new_id(), me, STATION, DISTRICT, [other, me, other], NOW)
    assert flag is not None
    assert flag.kind == FlagKind.PHOTO_REUSED
    assert flag.status == FlagStatus.OPEN
    assert flag.evidence["records"] == [{"type": "hazard", "id": str(other.record_id)}]
    assert flag.evidence["matches"] == 1
    assert flag.station_id == STATION


def test_device_rule_counts_reports_and_accounts() -> None:
    me = RecordRef("hazard", uuid.uuid4())
    assert not device_suspicious(DeviceActivity(20, 1), 20)
    assert device_suspicious(DeviceActivity(21, 1), 20)
    assert device_suspicious(DeviceActivity(2, 2), 20)  # two accounts on one device
    assert device_flag(new_id(), me, STATION, DISTRICT, None, 20, NOW) is None
    assert device_flag(new_id(), me, STATION, DISTRICT, DeviceActivity(3, 1), 20, NOW) is None
    flag = device_flag(new_id(), me, STATION, DISTRICT, DeviceActivity(30, 3), 20, NOW)
    assert flag is not None
    assert flag.kind == FlagKind.DEVICE_VELOCITY
    assert flag.evidence == {"reports": 30, "accounts": 3, "window_hours": 24, "limit": 20}


def _flag() -> ReviewFlag:
    flag = photo_flag(
        new_id(),
        RecordRef("tip", uuid.uuid4()),
        STATION,
        DISTRICT,
        [RecordRef("tip", uuid.uuid4())],
        NOW,
    )
    assert flag is not None
    return flag


def test_a_flag_is_resolved_once_with_a_bounded_note() -> None:
    flag = _flag()
    with pytest.raises(InvalidInput):
        flag.resolve(Decision.DISMISSED, uuid.uuid4(), "长" * 501, NOW)
    assert flag.status == FlagStatus.OPEN
    flag.resolve(Decision.CONFIRMED_FRAUD, uuid.uuid4(), "  照片系盗用  ", NOW)
    assert flag.status == FlagStatus.CONFIRMED_FRAUD
    assert flag.note == "照片系盗用"
    with pytest.raises(FlagAlreadyResolved):
        flag.resolve(Decision.DISMISSED, uuid.uuid4(), None, NOW)


def test_retry_after_waits_for_the_oldest_submission_in_the_window() -> None:
    earlier = [NOW - timedelta(minutes=m) for m in (50, 10, 5)]
    assert retry_after(earlier, NOW, 4) is None
    wait = retry_after(earlier, NOW, 3)
    assert wait == int(timedelta(minutes=10).total_seconds()) + 1
    assert retry_after(earlier, NOW, 2) == int(timedelta(minutes=50).total_seconds()) + 1


class FakeLog:
    def __init__(self, recent: Recent) -> None:
        self.recent = recent
        self.logged: list[Submission] = []

    async def record(self, uow: Any, submission: Submission, *, since: datetime) -> Recent:
        assert since == submission.at - VELOCITY_WINDOW
        self.logged.append(submission)
        return self.recent


def _refuse(wait: int, limit: int, window: int) -> Exception:
    return RateLimited(wait, code="test.rate_limited", limit=limit, window_seconds=window)


async def test_velocity_per_account_and_per_device() -> None:
    two = [NOW - timedelta(minutes=1)] * 2
    limits = VelocityLimits(account_per_hour=2, device_per_hour=3)
    account = uuid.uuid4()
    named = Submission("hazard", NOW, uuid.uuid4(), account, "install-1")

    velocity = SubmissionVelocity(FakeLog(Recent(by_account=two)), limits)
    with pytest.raises(RateLimited) as refused:
        await velocity.check(None, named, _refuse, per_account=True)
    assert refused.value.limit == 2
    # Tips count accounts elsewhere: the account's entries alone do not refuse.
    await velocity.check(None, named, _refuse, per_account=False)

    velocity = SubmissionVelocity(FakeLog(Recent(by_device=two * 2)), limits)
    with pytest.raises(RateLimited) as refused:
        await velocity.check(None, named, _refuse, per_account=False)
    assert refused.value.limit == 3
    # Without a device id only the account counts.
    log = FakeLog(Recent(by_device=two * 2))
    await SubmissionVelocity(log, limits).check(
        None, Submission("tip", NOW), _refuse, per_account=True
    )
    assert len(log.logged) == 1
    assert "install-1" not in repr(named)  # never shown in logs


class FakeFlags:
    def __init__(self) -> None:
        self.flags: dict[tuple[RecordRef, FlagKind], ReviewFlag] = {}

    async def add(self, flag: ReviewFlag) -> bool:
        if (flag.record, flag.kind) in self.flags:
            return False
        self.flags[(flag.record, flag.kind)] = flag
        return True


class FakeSignals:
    def __init__(self, matches: list[RecordRef], activity: DeviceActivity | None) -> None:
        self.matches = matches
        self.activity = activity

    async def similar_photos(
        self, record: RecordRef, *, since: datetime, max_distance: int, limit: int
    ) -> list[RecordRef]:
        assert since == NOW - timedelta(days=30)
        assert max_distance == 6
        return self.matches

    async def device_activity(self, record: RecordRef, *, since: datetime) -> DeviceActivity | None:
        assert since == NOW - timedelta(hours=24)
        return self.activity


class FakeUow:
    def __init__(self, flags: FakeFlags, signals: FakeSignals) -> None:
        self.flags = flags
        self.signals = signals
        self.events: list[DomainEvent] = []
        self.committed = 0

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.committed += 1

    async def rollback(self) -> None:
        return None

    def add_event(self, event: DomainEvent) -> None:
        self.events.append(event)

    def audit(self, *args: Any, **kwargs: Any) -> None:
        return None


def _event(name: str, aggregate: uuid.UUID, **payload: Any) -> OutboxEvent:
    return OutboxEvent(1, uuid.uuid4(), name, "x", aggregate, payload, NOW, 1)


async def test_handlers_raise_each_flag_once_and_reverse_on_fraud() -> None:
    hazard = uuid.uuid4()
    other = RecordRef("tip", uuid.uuid4())
    uow = FakeUow(FakeFlags(), FakeSignals([other], DeviceActivity(2, 2)))
    reversed_: list[tuple[str, uuid.UUID, str]] = []

    async def reverse(record_type: str, record_id: uuid.UUID, note: str) -> None:
        reversed_.append((record_type, record_id, note))

    handlers = ReviewHandlers(lambda scope: uow, FixedClock(NOW), reverse)  # type: ignore[arg-type,return-value]
    event = _event(
        "hazard.reported",
        hazard,
        hazard_id=str(hazard),
        station_id=str(STATION),
        district_id=str(DISTRICT),
    )
    await handlers.hazard_reported(event, "k")
    await handlers.hazard_reported(event, "k")  # redelivered: nothing twice
    kinds = {k for (_, k) in uow.flags.flags}
    assert kinds == {FlagKind.PHOTO_REUSED, FlagKind.DEVICE_VELOCITY}
    assert [e.event_type for e in uow.events] == ["review.flag_raised"] * 2
    assert uow.committed == 1
    assert all(f.station_id == STATION for f in uow.flags.flags.values())

    fraud = _event(
        "review.fraud_confirmed", uuid.uuid4(), record_type="hazard", record_id=str(hazard)
    )
    await handlers.fraud_confirmed(fraud, "k")
    await handlers.fraud_confirmed(_event("review.fraud_confirmed", uuid.uuid4()), "k")
    assert reversed_ == [("hazard", hazard, "fraud_confirmed")]
