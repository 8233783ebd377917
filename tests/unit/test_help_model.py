"""Rules of the help request (群众求助): text, offers, transitions, coarse views."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.help.errors import HelpOfferNotFound, OwnRequest
from app.domain.help.model import (
    Age,
    EventKind,
    HelpKind,
    HelpOutcome,
    HelpRequest,
    HelpStatus,
    OfferStatus,
    Routing,
    age_of,
    coarsen,
    redact,
)
from app.domain.shared.errors import InvalidInput, InvalidTransition
from app.domain.shared.geo import GeoPoint, distance_m

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
WANDA = GeoPoint(119.9703, 31.6902)  # 武进万达广场, roughly
REQUESTER = uuid.uuid4()
STAFF = uuid.uuid4()


def opened(**changes: Any) -> HelpRequest:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "kind": HelpKind.LOST_ITEM,
        "description": "  在武进万达广场丢失黑色钱包  ",
        "location": WANDA,
        "routing": Routing(uuid.uuid4(), uuid.uuid4(), None, None),
        "requester_id": REQUESTER,
        "media_ids": (),
        "at": NOW,
    }
    values.update(changes)
    return HelpRequest.open(**values)


def volunteer() -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.uuid4(), uuid.uuid4()  # (volunteer id, account id)


def test_open_keeps_trimmed_text_and_records_the_first_event() -> None:
    request = opened()
    assert request.status == HelpStatus.OPEN
    assert request.description == "在武进万达广场丢失黑色钱包"
    [event] = request.pending
    assert event.kind == EventKind.REQUESTED
    assert event.from_status is None
    assert event.by is None


@pytest.mark.parametrize("text", ["", "   ", "钱" * 2001, "黑色钱包\x00"])
def test_description_must_be_storable_and_bounded(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        opened(description=text)
    assert caught.value.code == "help.description_invalid"


def test_too_many_photos_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        opened(media_ids=tuple(uuid.uuid4() for _ in range(10)))
    assert caught.value.code == "help.too_many_media"


def test_offer_accept_resolve_close() -> None:
    request = opened()
    (v1, a1), (v2, a2) = volunteer(), volunteer()
    first, created = request.offer(volunteer_id=v1, account_id=a1, note="我在附近", at=NOW)
    assert created
    assert first.status == OfferStatus.ACTIVE
    second, _ = request.offer(volunteer_id=v2, account_id=a2, note=None, at=NOW)
    assert len(request.live_offers) == 2

    request.accept(first.id, at=NOW, by=STAFF)
    assert request.status == HelpStatus.IN_PROGRESS
    assert request.accepted_offer is first
    assert first.status == OfferStatus.ACCEPTED
    assert second.status == OfferStatus.DECLINED
    assert request.is_helper(a1)
    assert not request.is_helper(a2)

    request.resolve(HelpOutcome.FOUND, "钱包已归还失主", at=NOW, by=STAFF)
    assert request.status == HelpStatus.RESOLVED
    assert request.outcome == HelpOutcome.FOUND
    request.close(at=NOW, by=STAFF)
    assert request.status == HelpStatus.CLOSED
    kinds = [e.kind for e in request.pending]
    assert kinds == [
        EventKind.REQUESTED,
        EventKind.OFFERED,
        EventKind.OFFERED,
        EventKind.OFFER_ACCEPTED,
        EventKind.RESOLVED,
        EventKind.CLOSED,
    ]


def test_one_active_offer_per_volunteer_and_a_repeat_is_safe() -> None:
    request = opened()
    v, a = volunteer()
    offer, created = request.offer(volunteer_id=v, account_id=a, note=None, at=NOW)
    again, created_again = request.offer(volunteer_id=v, account_id=a, note="再次", at=NOW)
    assert created
    assert not created_again
    assert again is offer
    assert len(request.offers) == 1


def test_withdrawn_offer_may_be_made_again_but_not_withdrawn_twice() -> None:
    request = opened()
    v, a = volunteer()
    offer, _ = request.offer(volunteer_id=v, account_id=a, note=None, at=NOW)
    request.withdraw_offer(a, at=NOW)
    assert offer.status == OfferStatus.WITHDRAWN
    with pytest.raises(HelpOfferNotFound):
        request.withdraw_offer(a, at=NOW)
    with pytest.raises(HelpOfferNotFound):
        request.accept(uuid.uuid4(), at=NOW, by=STAFF)
    with pytest.raises(InvalidTransition):
        request.accept(offer.id, at=NOW, by=STAFF)  # withdrawn: not acceptable
    renewed, created = request.offer(volunteer_id=v, account_id=a, note=None, at=NOW)
    assert created
    assert renewed.id != offer.id


def test_requester_cannot_offer_on_own_request() -> None:
    request = opened()
    with pytest.raises(OwnRequest):
        request.offer(volunteer_id=uuid.uuid4(), account_id=REQUESTER, note=None, at=NOW)


def test_offer_note_is_bounded() -> None:
    request = opened()
    v, a = volunteer()
    with pytest.raises(InvalidInput) as caught:
        request.offer(volunteer_id=v, account_id=a, note="到" * 201, at=NOW)
    assert caught.value.code == "help.note_invalid"


def test_nothing_but_resolve_once_in_progress() -> None:
    request = opened()
    v, a = volunteer()
    offer, _ = request.offer(volunteer_id=v, account_id=a, note=None, at=NOW)
    request.accept(offer.id, at=NOW, by=STAFF)
    other_v, other_a = volunteer()
    with pytest.raises(InvalidTransition):
        request.offer(volunteer_id=other_v, account_id=other_a, note=None, at=NOW)
    with pytest.raises(InvalidTransition):
        request.withdraw_offer(a, at=NOW)
    with pytest.raises(InvalidTransition):
        request.cancel(at=NOW)
    with pytest.raises(InvalidTransition):
        request.close(at=NOW, by=STAFF)
    request.resolve(HelpOutcome.NOT_FOUND, None, at=NOW, by=STAFF)
    with pytest.raises(InvalidTransition):
        request.resolve(HelpOutcome.FOUND, None, at=NOW, by=STAFF)


def test_requester_cancels_while_open_and_active_offers_are_declined() -> None:
    request = opened()
    v, a = volunteer()
    offer, _ = request.offer(volunteer_id=v, account_id=a, note=None, at=NOW)
    request.cancel(at=NOW)
    assert request.status == HelpStatus.CANCELLED
    assert request.outcome == HelpOutcome.WITHDRAWN_BY_REQUESTER
    assert offer.status == OfferStatus.DECLINED
    assert request.pending[-1].by is None  # the requester is not named in the history
    with pytest.raises(InvalidTransition):
        request.resolve(HelpOutcome.FOUND, None, at=NOW, by=STAFF)
    with pytest.raises(InvalidTransition):
        request.close(at=NOW, by=STAFF)


def test_staff_may_resolve_an_open_request_directly_with_a_bounded_note() -> None:
    request = opened()
    with pytest.raises(InvalidInput):
        request.resolve(HelpOutcome.REFERRED, "转" * 501, at=NOW, by=STAFF)
    assert request.status == HelpStatus.OPEN
    request.resolve(HelpOutcome.REFERRED, "已转交商场服务台", at=NOW, by=STAFF)
    assert request.status == HelpStatus.RESOLVED


def test_coarse_location_is_a_stable_cell_centre_within_500_m() -> None:
    cell = coarsen(WANDA)
    assert cell != WANDA
    assert distance_m(cell, WANDA) < 400  # at most half the cell's diagonal (~354 m)
    assert coarsen(GeoPoint(WANDA.lon + 0.0001, WANDA.lat + 0.0001)) == cell
    far = coarsen(GeoPoint(WANDA.lon + 0.01, WANDA.lat))
    assert 800 < distance_m(far, cell) < 1200


@pytest.mark.parametrize(
    ("ago", "bucket"),
    [
        (timedelta(minutes=1), Age.JUST_NOW),
        (timedelta(minutes=30), Age.MINUTES),
        (timedelta(hours=5), Age.HOURS),
        (timedelta(days=3), Age.DAYS),
    ],
)
def test_age_buckets(ago: timedelta, bucket: Age) -> None:
    assert age_of(NOW - ago, NOW) == bucket


def test_redact_masks_phone_and_id_numbers() -> None:
    text = "丢失钱包，请联系13912345678，身份证320412198001011234"
    shown = redact(text)
    assert "13912345678" not in shown
    assert "139****5678" in shown
    assert "320412198001011234" not in shown
    assert "320***********1234" in shown
    assert redact("在武进万达广场丢失黑色钱包") == "在武进万达广场丢失黑色钱包"
