"""VolunteerFilter.typed: the search criteria both doors (REST, GraphQL) build from what
a caller typed."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from app.domain.shared.errors import InvalidInput
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.ports import VolunteerFilter

TODAY = date(2025, 6, 1)


def test_typed_values_are_normalised() -> None:
    station = uuid.uuid4()
    flt = VolunteerFilter.typed(
        today=TODAY,
        q="  张  ",
        phone="+86 138-0013-8000",
        resident_id=" 320412 19800101 004x ",
        status=VolunteerStatus.ACTIVE,
        station_id=station,
    )
    assert flt.name_prefix == "张"
    assert flt.phone == "13800138000"
    assert flt.resident_id == "32041219800101004X"
    assert flt.status is VolunteerStatus.ACTIVE
    assert flt.station_id == station
    assert flt.team_id is None


@pytest.mark.parametrize("q", [None, "", "   "])
def test_blank_name_is_no_criterion(q: str | None) -> None:
    assert VolunteerFilter.typed(today=TODAY, q=q) == VolunteerFilter()


def test_bad_phone_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as raised:
        VolunteerFilter.typed(today=TODAY, phone="12345")
    assert raised.value.code == "person.invalid_phone"
