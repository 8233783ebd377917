"""Volunteer repositories against PostgreSQL: sealed columns, blind indexes, unique open
records, scoping, history, and volunteer numbers under concurrent activations."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fakes.volunteers import random_phone, random_resident_id
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import OrgTree, make_org_tree

from app.bootstrap.identity import blind_indexer, field_cipher
from app.bootstrap.volunteers import uow_factory
from app.domain.shared.clock import SystemClock
from app.domain.shared.ids import new_id
from app.domain.shared.protection import Sealed
from app.domain.shared.scope import Role, Scope, system_scope
from app.domain.volunteers.errors import AlreadyRegistered
from app.domain.volunteers.glossary import SourceCategory
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import CheckResult, Origin, PersonalData, new_volunteer
from app.domain.volunteers.ports import VolunteerFilter
from app.domain.volunteers.recruitment import ConsentInput, PersonForm
from app.domain.volunteers.services import CheckInput, UowFactory, VolunteerService
from app.infra.db.tables.identity import account_roles, accounts
from app.infra.db.tables.volunteers import volunteer_status_history, volunteers
from app.settings import Settings

S = VolunteerStatus


@pytest.fixture(scope="module")
def factory(session_factory: async_sessionmaker[AsyncSession], settings: Settings) -> UowFactory:
    return uow_factory(
        session_factory, SystemClock(), field_cipher(settings), blind_indexer(settings)
    )


@pytest.fixture(scope="module")
def service(factory: UowFactory) -> VolunteerService:
    return VolunteerService(factory, SystemClock(), privacy_notice_version="2026-11")


@pytest.fixture
async def tree(session_factory: async_sessionmaker[AsyncSession]) -> OrgTree:
    return await make_org_tree(session_factory)


def officer(station_id: uuid.UUID) -> Scope:
    return Scope(uuid.uuid4(), frozenset({Role.OFFICER}), frozenset({station_id}))


def form(tree: OrgTree, **kw: object) -> PersonForm:
    values: dict[str, object] = {
        "name": "张伟",
        "phone": random_phone(),
        "resident_id": random_resident_id(),
        "address": "常州市武进区湖塘镇花园街1号",
        "station_id": tree.station_id,
        "source_category": "party_member",
    }
    values.update(kw)
    return PersonForm(**values)  # type: ignore[arg-type]


async def test_personal_data_is_ciphertext_at_rest(
    service: VolunteerService,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    tree: OrgTree,
) -> None:
    f = form(tree)
    v = await service.register(system_scope(), f)
    async with session_factory() as s:
        row = (await s.execute(sa.select(volunteers).where(volunteers.c.id == v.id))).one()
    for column, plain in (
        ("resident_id_sealed", f.resident_id),
        ("phone_sealed", f.phone),
        ("address_sealed", f.address),
    ):
        raw = bytes(getattr(row, column))
        assert plain.encode() not in raw
        assert len(raw) >= len(plain.encode()) + 28  # nonce + tag
    assert row.resident_id_key_id == row.phone_key_id == "dev1"
    indexer = blind_indexer(settings)
    assert bytes(row.phone_bidx) == indexer.index(f.phone, purpose="phone")
    assert bytes(row.resident_id_bidx) == indexer.index(f.resident_id, purpose="resident_id")
    assert row.name == "张伟"  # in clear for search and sorting
    cipher = field_cipher(settings)
    opened = cipher.open(
        Sealed(row.resident_id_key_id, bytes(row.resident_id_sealed)),
        context="volunteer.resident_id",
    )
    assert opened == f.resident_id


async def test_lookup_by_blind_index_and_name_prefix(
    service: VolunteerService, tree: OrgTree
) -> None:
    f = form(tree, name="欧阳娜娜")
    v = await service.register(system_scope(), f)
    await service.register(system_scope(), form(tree, name="欧阳锋"))
    staff = officer(tree.station_id)
    by_phone = await service.search(staff, VolunteerFilter(phone=f.phone), limit=10)
    assert [i.id for i in by_phone.items] == [v.id]
    by_id = await service.search(staff, VolunteerFilter(resident_id=f.resident_id), limit=10)
    assert [i.id for i in by_id.items] == [v.id]
    by_name = await service.search(staff, VolunteerFilter(name_prefix="欧阳"), limit=10)
    assert len(by_name.items) == 2
    assert (await service.search(staff, VolunteerFilter(name_prefix="%"), limit=10)).items == []
    page1 = await service.search(staff, VolunteerFilter(name_prefix="欧阳"), limit=1)
    assert page1.next_after is not None
    page2 = await service.search(
        staff,
        VolunteerFilter(name_prefix="欧阳"),
        limit=1,
        after=page1.next_after[0],  # type: ignore[arg-type]
    )
    assert page2.items[0].id != page1.items[0].id
    assert page2.next_after is None
    stranger = officer(tree.other_station_id)
    assert (await service.search(stranger, VolunteerFilter(phone=f.phone), limit=10)).items == []


async def test_unique_open_record_per_resident_id_in_the_database(
    factory: UowFactory, service: VolunteerService, tree: OrgTree
) -> None:
    rid = random_resident_id()
    await service.register(system_scope(), form(tree, resident_id=rid))

    def duplicate() -> object:
        return new_volunteer(
            volunteer_id=new_id(),
            station_id=tree.other_station_id,
            district_id=tree.district_id,
            community_id=None,
            account_id=None,
            name="李四",
            personal=PersonalData(random_phone(), rid, "常州市"),
            source_category=SourceCategory.OTHER,
            skills=(),
            preferred_roles=(),
            origin=Origin.IMPORT,
            consent=None,
            by=uuid.uuid4(),
            at=datetime.now(UTC),
        )

    # Straight to the repository, as a request that lost the race would.
    async with factory(system_scope()) as uow:
        with pytest.raises(AlreadyRegistered):
            await uow.volunteers.add(duplicate())  # type: ignore[arg-type]


async def test_scoped_reads_history_and_checks(
    factory: UowFactory, service: VolunteerService, tree: OrgTree
) -> None:
    staff = officer(tree.station_id)
    v = await service.register(staff, form(tree))
    await service.record_background_check(staff, v.id, CheckInput(CheckResult.PASSED, note="无"))
    async with factory(officer(tree.other_station_id)) as uow:
        assert await uow.volunteers.get(v.id) is None
        assert await uow.volunteers.get_many([v.id]) == []
    async with factory(staff) as uow:
        loaded = await uow.volunteers.get(v.id)
        assert loaded is not None
        assert loaded.status == S.VETTED
        assert loaded.version == 2
        history = await uow.volunteers.history(v.id)
        checks = await uow.volunteers.checks(v.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, S.APPLIED),
        (S.APPLIED, S.VETTED),
    ]
    assert history[1].by == staff.account_id
    assert checks[0].note == "无"
    assert checks[0].next_recheck_on == loaded.next_recheck_on


async def _account(session_factory: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    account_id = new_id()
    async with session_factory() as s, s.begin():
        await s.execute(sa.insert(accounts).values(id=account_id, kind="resident"))
    return account_id


async def test_activation_grants_and_suspension_revokes_the_volunteer_role(
    service: VolunteerService,
    session_factory: async_sessionmaker[AsyncSession],
    tree: OrgTree,
) -> None:
    account_id = await _account(session_factory)
    me = Scope(account_id, frozenset({Role.RESIDENT}))
    v = await service.apply(me, form(tree), ConsentInput("2026-11", True))
    staff = officer(tree.station_id)
    await service.record_background_check(staff, v.id, CheckInput(CheckResult.PASSED))
    for target in (S.TRAINING, S.PROBATION, S.ACTIVE):
        await service.change_status(staff, v.id, target)

    async def roles() -> set[str]:
        async with session_factory() as s:
            rows = await s.execute(
                sa.select(account_roles.c.role).where(account_roles.c.account_id == account_id)
            )
            return {r.role for r in rows}

    assert await roles() == {"volunteer"}
    await service.change_status(staff, v.id, S.SUSPENDED, reason="调查")
    assert await roles() == set()
    async with session_factory() as s:
        count = await s.scalar(
            sa.select(sa.func.count()).where(volunteer_status_history.c.volunteer_id == v.id)
        )
    assert count == 6


async def test_volunteer_numbers_are_unique_under_concurrent_activation(
    service: VolunteerService, tree: OrgTree
) -> None:
    staff = officer(tree.station_id)
    ids = []
    for _ in range(10):
        v = await service.register(staff, form(tree))
        await service.record_background_check(staff, v.id, CheckInput(CheckResult.PASSED))
        await service.change_status(staff, v.id, S.TRAINING)
        await service.change_status(staff, v.id, S.PROBATION)
        ids.append(v.id)
    activated = await asyncio.gather(*(service.change_status(staff, i, S.ACTIVE) for i in ids))
    numbers = sorted(v.volunteer_number or "" for v in activated)
    tokens = {v.badge_token for v in activated}
    assert len(set(numbers)) == 10
    assert len(tokens) == 10
    year = datetime.now(UTC).year
    prefix = re.sub(r"[^A-Z0-9]", "", tree.district_code.upper())[:8]
    assert numbers == [f"{prefix}-{year}-{n:06d}" for n in range(1, 11)]


async def test_partial_unique_index_rejects_a_second_open_record(
    session_factory: async_sessionmaker[AsyncSession], tree: OrgTree
) -> None:
    bidx = uuid.uuid4().bytes * 2
    base = {
        "station_id": tree.station_id,
        "district_id": tree.district_id,
        "name": "测试",
        "resident_id_key_id": "k",
        "resident_id_sealed": b"x",
        "resident_id_bidx": bidx,
        "phone_key_id": "k",
        "phone_sealed": b"x",
        "phone_bidx": b"p",
        "address_key_id": "k",
        "address_sealed": b"x",
        "source_category": "other",
        "origin": "import",
    }
    async with session_factory() as s, s.begin():
        await s.execute(sa.insert(volunteers).values(id=new_id(), status="retired", **base))
        await s.execute(sa.insert(volunteers).values(id=new_id(), status="applied", **base))
    with pytest.raises(IntegrityError, match="uq_volunteers_open_resident_id"):
        async with session_factory() as s, s.begin():
            await s.execute(sa.insert(volunteers).values(id=new_id(), status="active", **base))
