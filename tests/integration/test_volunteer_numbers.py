"""Volunteer numbers (统一标识) are unique across the installation even when two
districts' codes give the same number prefix (codes differing only in case, punctuation
or beyond the eighth character): each district's counter skips numbers already issued."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fakes.volunteers import random_phone, random_resident_id
from support.org import collection, free_origin, import_collection, tree_features

from app.domain.shared.scope import system_scope
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import CheckResult
from app.domain.volunteers.recruitment import PersonForm
from app.domain.volunteers.services import CheckInput, VolunteerService

S = VolunteerStatus


async def _station(app: Any, prefix: str) -> uuid.UUID:
    report = await import_collection(app, collection(*tree_features(prefix, free_origin())))
    assert not report.rejected, report.rejected
    service: VolunteerService = app.state.services.get(VolunteerService)
    found = await service.station_by_code(system_scope(), f"{prefix}-S1")
    assert found is not None
    return found.id


async def _activate(service: VolunteerService, station_id: uuid.UUID) -> str:
    form = PersonForm(
        name="张伟",
        phone=random_phone(),
        resident_id=random_resident_id(),
        address="常州市武进区湖塘镇花园街1号",
        station_id=station_id,
        source_category="party_member",
    )
    scope = system_scope()
    v = await service.register(scope, form)
    await service.record_background_check(scope, v.id, CheckInput(CheckResult.PASSED))
    await service.change_status(scope, v.id, S.TRAINING)
    await service.change_status(scope, v.id, S.PROBATION)
    active = await service.change_status(scope, v.id, S.ACTIVE)
    assert active.volunteer_number is not None
    return active.volunteer_number


async def test_districts_sharing_a_number_prefix_never_share_a_number(app: Any) -> None:
    stem = "Q" + uuid.uuid4().hex[:7]
    # "q1b2c3d4-D" and "Q1B2C3D4-D" are two districts; both give the prefix "Q1B2C3D4".
    first = await _station(app, stem.lower())
    second = await _station(app, stem.upper())
    service = app.state.services.get(VolunteerService)
    numbers = [await _activate(service, first), await _activate(service, second)]
    numbers += await asyncio.gather(*(_activate(service, s) for s in (first, second) * 3))
    assert len(set(numbers)) == len(numbers) == 8
    assert all(n.startswith(stem.upper() + "-") for n in numbers)
