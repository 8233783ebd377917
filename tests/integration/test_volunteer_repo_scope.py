"""Reads of rows that hang off a volunteer (status history, background checks) filter by
the caller's scope in SQL themselves, not only through the service's earlier lookup."""

from __future__ import annotations

import uuid

import pytest
from fakes.volunteers import random_phone, random_resident_id
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import OrgTree, make_org_tree

from app.bootstrap.identity import blind_indexer, field_cipher
from app.bootstrap.volunteers import uow_factory
from app.domain.shared.clock import SystemClock
from app.domain.shared.scope import Role, Scope, system_scope
from app.domain.volunteers.model import CheckResult
from app.domain.volunteers.recruitment import PersonForm
from app.domain.volunteers.services import CheckInput, UowFactory, VolunteerService
from app.settings import Settings


@pytest.fixture
def factory(session_factory: async_sessionmaker[AsyncSession], settings: Settings) -> UowFactory:
    return uow_factory(
        session_factory, SystemClock(), field_cipher(settings), blind_indexer(settings)
    )


def officer(station_id: uuid.UUID) -> Scope:
    return Scope(uuid.uuid4(), frozenset({Role.OFFICER}), frozenset({station_id}))


async def test_history_and_checks_of_a_foreign_volunteer_read_nothing(
    factory: UowFactory, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    tree: OrgTree = await make_org_tree(session_factory)
    service = VolunteerService(factory, SystemClock(), privacy_notice_version="2026-11")
    form = PersonForm(
        name="张伟",
        phone=random_phone(),
        resident_id=random_resident_id(),
        address="常州市武进区湖塘镇花园街1号",
        station_id=tree.station_id,
        source_category="party_member",
    )
    v = await service.register(system_scope(), form)
    own = officer(tree.station_id)
    await service.record_background_check(own, v.id, CheckInput(CheckResult.PASSED))

    async with factory(own) as uow:
        assert len(await uow.volunteers.history(v.id)) == 2
        assert len(await uow.volunteers.checks(v.id)) == 1
    async with factory(officer(tree.other_station_id)) as uow:
        assert await uow.volunteers.history(v.id) == []
        assert await uow.volunteers.checks(v.id) == []
