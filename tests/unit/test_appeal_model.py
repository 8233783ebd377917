"""Rules of the police appeal: title/body, expiry window, target, transitions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.appeals.model import Appeal, AppealKind, AppealStatus, Target
from app.domain.shared.errors import InvalidInput, InvalidTransition

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[119.95, 31.70], [119.96, 31.70], [119.96, 31.71], [119.95, 31.70]]],
}


def draft(**changes: Any) -> Appeal:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "station_id": uuid.uuid4(),
        "district_id": uuid.uuid4(),
        "kind": AppealKind.MISSING_PERSON,
        "title": "寻找走失老人",
        "body": "寻找走失老人：王某某，男，78岁，身穿蓝色外套",
        "target": Target(unit_ids=(uuid.uuid4(),)),
        "expires_at": NOW + timedelta(days=7),
        "media_ids": (),
        "created_by": uuid.uuid4(),
        "now": NOW,
    }
    values.update(changes)
    return Appeal.draft(**values)


def test_publish_and_withdraw() -> None:
    appeal = draft(title="  寻找走失老人  ")
    assert appeal.title == "寻找走失老人"
    assert not appeal.is_live(NOW)
    appeal.publish(NOW)
    assert appeal.status == AppealStatus.PUBLISHED
    assert appeal.is_live(NOW)
    assert not appeal.is_live(NOW + timedelta(days=8))
    with pytest.raises(InvalidTransition):
        appeal.publish(NOW)
    appeal.withdraw(NOW)
    assert not appeal.is_live(NOW)
    with pytest.raises(InvalidTransition):
        appeal.withdraw(NOW)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"title": " "}, "appeal.title_invalid"),
        ({"title": "寻" * 101}, "appeal.title_invalid"),
        ({"body": ""}, "appeal.body_invalid"),
        ({"expires_at": NOW}, "appeal.expiry_invalid"),
        ({"expires_at": NOW + timedelta(days=90, seconds=1)}, "appeal.expiry_invalid"),
        ({"media_ids": tuple(uuid.uuid4() for _ in range(10))}, "appeal.too_many_media"),
    ],
)
def test_rules(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        draft(**changes)
    assert caught.value.code == code


def test_ninety_days_is_allowed() -> None:
    assert draft(expires_at=NOW + timedelta(days=90)).expires_at == NOW + timedelta(days=90)


def test_target_is_units_or_a_valid_polygon() -> None:
    unit = uuid.uuid4()
    assert Target.of([unit, unit], None).unit_ids == (unit,)
    assert Target.of(None, SQUARE).polygon is not None
    for units, polygon in (([], None), ([unit], SQUARE)):
        with pytest.raises(InvalidInput) as caught:
            Target.of(units, polygon)
        assert caught.value.code == "appeal.target_required"
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
    }
    for bad in (bowtie, {"type": "Point", "coordinates": [119.95, 31.7]}):
        with pytest.raises(InvalidInput) as caught:
            Target.of(None, bad)
        assert caught.value.code == "appeal.polygon_invalid"
