"""Volunteer archive repository: rows ↔ Volunteer, personal data sealed on the way in and
opened on the way out, every read filtered by the caller's scope in SQL."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.shared.errors import StaleVersion
from app.domain.shared.ids import new_id
from app.domain.shared.protection import BlindIndexer, FieldCipher, Sealed
from app.domain.shared.scope import Scope
from app.domain.volunteers.errors import AlreadyRegistered
from app.domain.volunteers.glossary import PreferredRole, SourceCategory
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import (
    BackgroundCheck,
    CheckResult,
    Consent,
    Identification,
    Origin,
    PersonalData,
    StatusChange,
    Volunteer,
)
from app.domain.volunteers.ports import StationRef, VolunteerFilter
from app.infra.db.scoping import station_scope
from app.infra.db.tables.identity import account_roles
from app.infra.db.tables.organisation import org_units
from app.infra.db.tables.volunteers import (
    OPEN_RECORD,
    background_checks,
    team_memberships,
    volunteer_number_counters,
    volunteer_status_history,
    volunteers,
)

t = volunteers
RESIDENT_ID_CONTEXT: Final = "volunteer.resident_id"
PHONE_CONTEXT: Final = "volunteer.phone"
ADDRESS_CONTEXT: Final = "volunteer.address"
# Same purposes as identity's indexes, so one normalised phone gives one index everywhere.
PHONE_PURPOSE: Final = "phone"
RESIDENT_ID_PURPOSE: Final = "resident_id"
_UNIQUE_OPEN: Final = ("uq_volunteers_open_resident_id", "uq_volunteers_open_account")


def volunteer_visible(scope: Scope, table: sa.Table = t) -> sa.ColumnElement[bool]:
    """Staff see their jurisdiction; everybody sees their own record."""
    return sa.or_(
        station_scope(table.c.station_id, table.c.district_id, scope),
        table.c.account_id == scope.account_id,
    )


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlVolunteerRepository:
    def __init__(
        self, session: AsyncSession, scope: Scope, cipher: FieldCipher, indexer: BlindIndexer
    ) -> None:
        self._s = session
        self._scope = scope
        self._cipher = cipher
        self._indexer = indexer

    # --- mapping -----------------------------------------------------------------------------

    def _sealed_columns(self, p: PersonalData) -> dict[str, Any]:
        rid = self._cipher.seal(p.resident_id, context=RESIDENT_ID_CONTEXT)
        phone = self._cipher.seal(p.phone, context=PHONE_CONTEXT)
        address = self._cipher.seal(p.address, context=ADDRESS_CONTEXT)
        return {
            "resident_id_key_id": rid.key_id,
            "resident_id_sealed": rid.ciphertext,
            "resident_id_bidx": self._indexer.index(p.resident_id, purpose=RESIDENT_ID_PURPOSE),
            "phone_key_id": phone.key_id,
            "phone_sealed": phone.ciphertext,
            "phone_bidx": self._indexer.index(p.phone, purpose=PHONE_PURPOSE),
            "address_key_id": address.key_id,
            "address_sealed": address.ciphertext,
        }

    def _row_values(self, v: Volunteer) -> dict[str, Any]:
        ident = v.identification
        return {
            "account_id": v.account_id,
            "station_id": v.station_id,
            "district_id": v.district_id,
            "community_id": v.community_id,
            "name": v.name,
            **self._sealed_columns(v.personal),
            "source_category": v.source_category.value,
            "skills": list(v.skills),
            "preferred_roles": [r.value for r in v.preferred_roles],
            "has_photo": v.has_photo,
            "status": v.status.value,
            "status_before_suspension": v.status_before_suspension,
            "origin": v.origin.value,
            "consent_notice_version": v.consent.notice_version if v.consent else None,
            "consent_at": v.consent.accepted_at if v.consent else None,
            "volunteer_number": ident.number if ident else None,
            "badge_token": ident.badge_token if ident else None,
            "activated_at": v.activated_at,
            "next_recheck_on": v.next_recheck_on,
        }

    def _open(self, row: Any, prefix: str, context: str) -> str:
        sealed = Sealed(key_id=row[f"{prefix}_key_id"], ciphertext=bytes(row[f"{prefix}_sealed"]))
        return self._cipher.open(sealed, context=context)

    def _from_row(self, row: Any) -> Volunteer:
        m = row._mapping
        consent = (
            Consent(m["consent_notice_version"], m["consent_at"])
            if m["consent_notice_version"]
            else None
        )
        ident = (
            Identification(m["volunteer_number"], m["badge_token"])
            if m["volunteer_number"]
            else None
        )
        before = m["status_before_suspension"]
        return Volunteer(
            id=m["id"],
            station_id=m["station_id"],
            district_id=m["district_id"],
            community_id=m["community_id"],
            account_id=m["account_id"],
            name=m["name"],
            personal=PersonalData(
                phone=self._open(m, "phone", PHONE_CONTEXT),
                resident_id=self._open(m, "resident_id", RESIDENT_ID_CONTEXT),
                address=self._open(m, "address", ADDRESS_CONTEXT),
            ),
            source_category=SourceCategory(m["source_category"]),
            skills=tuple(m["skills"] or ()),
            preferred_roles=tuple(PreferredRole(r) for r in m["preferred_roles"] or ()),
            has_photo=m["has_photo"],
            status=VolunteerStatus(m["status"]),
            status_before_suspension=VolunteerStatus(before) if before else None,
            origin=Origin(m["origin"]),
            consent=consent,
            identification=ident,
            activated_at=m["activated_at"],
            next_recheck_on=m["next_recheck_on"],
            version=m["version"],
            created_at=m["created_at"],
        )

    async def _flush_pending(self, v: Volunteer) -> None:
        if v.new_changes:
            await self._s.execute(
                sa.insert(volunteer_status_history),
                [
                    {
                        "volunteer_id": c.volunteer_id,
                        "from_status": c.from_status.value if c.from_status else None,
                        "to_status": c.to_status.value,
                        "reason": c.reason,
                        "by_account_id": c.by,
                        "at": c.at,
                    }
                    for c in v.new_changes
                ],
            )
        if v.new_checks:
            await self._s.execute(
                sa.insert(background_checks),
                [
                    {
                        "id": c.id,
                        "volunteer_id": c.volunteer_id,
                        "checked_by": c.checked_by,
                        "checked_on": c.checked_on,
                        "result": c.result.value,
                        "note": c.note,
                        "next_recheck_on": c.next_recheck_on,
                        "recorded_at": c.recorded_at,
                    }
                    for c in v.new_checks
                ],
            )
        v.new_changes.clear()
        v.new_checks.clear()

    # --- writes ------------------------------------------------------------------------------

    async def add(self, volunteer: Volunteer) -> None:
        values = {
            "id": volunteer.id,
            "created_at": volunteer.created_at,
            "updated_at": volunteer.created_at,
            **self._row_values(volunteer),
        }
        try:
            # A savepoint, so a lost race leaves the transaction usable for the error path.
            async with self._s.begin_nested():
                await self._s.execute(sa.insert(t).values(**values))
        except IntegrityError as exc:
            if any(name in str(exc.orig) for name in _UNIQUE_OPEN):
                raise AlreadyRegistered() from None
            raise
        await self._flush_pending(volunteer)

    async def update(self, volunteer: Volunteer, *, expected_version: int | None) -> None:
        version = expected_version if expected_version is not None else volunteer.version
        values = self._row_values(volunteer)
        result = await self._s.execute(
            sa.update(t)
            .where(t.c.id == volunteer.id, t.c.version == version)
            .values(**values, version=t.c.version + 1, updated_at=sa.func.now())
            .returning(t.c.version)
        )
        new_version = result.scalar_one_or_none()
        if new_version is None:
            raise StaleVersion()
        volunteer.version = new_version
        await self._flush_pending(volunteer)

    # --- reads -------------------------------------------------------------------------------

    async def get(self, volunteer_id: uuid.UUID, *, for_update: bool = False) -> Volunteer | None:
        query = sa.select(t).where(t.c.id == volunteer_id, volunteer_visible(self._scope))
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return self._from_row(row) if row is not None else None

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[Volunteer]:
        if not ids:
            return []
        query = sa.select(t).where(t.c.id.in_(list(ids)), volunteer_visible(self._scope))
        return [self._from_row(r) for r in (await self._s.execute(query)).all()]

    async def open_record_of_account(self, account_id: uuid.UUID) -> Volunteer | None:
        query = sa.select(t).where(t.c.account_id == account_id, OPEN_RECORD)
        row = (await self._s.execute(query)).first()
        return self._from_row(row) if row is not None else None

    async def latest_record_of_account(self, account_id: uuid.UUID) -> Volunteer | None:
        query = sa.select(t).where(t.c.account_id == account_id).order_by(t.c.id.desc()).limit(1)
        row = (await self._s.execute(query)).first()
        return self._from_row(row) if row is not None else None

    async def open_record_exists(
        self, *, resident_id: str | None = None, account_id: uuid.UUID | None = None
    ) -> bool:
        clauses: list[sa.ColumnElement[bool]] = []
        if resident_id is not None:
            bidx = self._indexer.index(resident_id, purpose=RESIDENT_ID_PURPOSE)
            clauses.append(t.c.resident_id_bidx == bidx)
        if account_id is not None:
            clauses.append(t.c.account_id == account_id)
        if not clauses:
            return False
        query = sa.select(sa.exists().where(sa.or_(*clauses), OPEN_RECORD))
        return bool((await self._s.execute(query)).scalar())

    async def by_badge_token(self, token: str) -> Volunteer | None:
        row = (await self._s.execute(sa.select(t).where(t.c.badge_token == token))).first()
        return self._from_row(row) if row is not None else None

    async def number_taken(self, number: str) -> bool:
        query = sa.select(sa.exists().where(t.c.volunteer_number == number))
        return bool((await self._s.execute(query)).scalar())

    async def search(
        self, flt: VolunteerFilter, *, limit: int, after: uuid.UUID | None
    ) -> list[Volunteer]:
        query = sa.select(t).where(volunteer_visible(self._scope))
        if after is not None:
            query = query.where(t.c.id < after)
        if flt.status is not None:
            query = query.where(t.c.status == flt.status.value)
        if flt.source_category is not None:
            query = query.where(t.c.source_category == flt.source_category.value)
        if flt.station_id is not None:
            query = query.where(t.c.station_id == flt.station_id)
        if flt.name_prefix:
            query = query.where(t.c.name.like(escape_like(flt.name_prefix) + "%", escape="\\"))
        if flt.phone is not None:
            query = query.where(
                t.c.phone_bidx == self._indexer.index(flt.phone, purpose=PHONE_PURPOSE)
            )
        if flt.resident_id is not None:
            bidx = self._indexer.index(flt.resident_id, purpose=RESIDENT_ID_PURPOSE)
            query = query.where(t.c.resident_id_bidx == bidx)
        if flt.team_id is not None:
            m = team_memberships
            query = query.where(
                sa.exists().where(
                    m.c.volunteer_id == t.c.id, m.c.team_id == flt.team_id, m.c.left_at.is_(None)
                )
            )
        query = query.order_by(t.c.id.desc()).limit(limit)
        return [self._from_row(r) for r in (await self._s.execute(query)).all()]

    async def rechecks_due(
        self, before: date, *, limit: int, after: tuple[date, uuid.UUID] | None
    ) -> list[Volunteer]:
        query = sa.select(t).where(
            volunteer_visible(self._scope),
            OPEN_RECORD,
            t.c.next_recheck_on.is_not(None),
            t.c.next_recheck_on <= before,
        )
        if after is not None:
            query = query.where(sa.tuple_(t.c.next_recheck_on, t.c.id) > sa.tuple_(*after))
        query = query.order_by(t.c.next_recheck_on, t.c.id).limit(limit)
        return [self._from_row(r) for r in (await self._s.execute(query)).all()]

    def _visible_volunteer(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        """Rows hanging off a volunteer follow that volunteer's visibility, in SQL too."""
        return column.in_(sa.select(t.c.id).where(volunteer_visible(self._scope)))

    async def history(self, volunteer_id: uuid.UUID) -> list[StatusChange]:
        h = volunteer_status_history
        rows = await self._s.execute(
            sa.select(h)
            .where(h.c.volunteer_id == volunteer_id, self._visible_volunteer(h.c.volunteer_id))
            .order_by(h.c.seq)
        )
        return [
            StatusChange(
                volunteer_id=r.volunteer_id,
                from_status=VolunteerStatus(r.from_status) if r.from_status else None,
                to_status=VolunteerStatus(r.to_status),
                reason=r.reason,
                by=r.by_account_id,
                at=r.at,
            )
            for r in rows
        ]

    async def checks(self, volunteer_id: uuid.UUID) -> list[BackgroundCheck]:
        c = background_checks
        rows = await self._s.execute(
            sa.select(c)
            .where(c.c.volunteer_id == volunteer_id, self._visible_volunteer(c.c.volunteer_id))
            .order_by(c.c.checked_on.desc(), c.c.id.desc())
        )
        return [
            BackgroundCheck(
                id=r.id,
                volunteer_id=r.volunteer_id,
                checked_by=r.checked_by,
                checked_on=r.checked_on,
                result=CheckResult(r.result),
                note=r.note,
                next_recheck_on=r.next_recheck_on,
                recorded_at=r.recorded_at,
            )
            for r in rows
        ]


_STATION = org_units.alias("station")
_DISTRICT = org_units.alias("district")


class SqlStationDirectory:
    """Reads the organisation tree (owned by the organisation context) for references."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    @staticmethod
    def _query() -> sa.Select[Any]:
        s, d = _STATION, _DISTRICT
        return (
            sa.select(s.c.id, s.c.code, s.c.name, s.c.district_id, d.c.code.label("dcode"))
            .join(d, d.c.id == s.c.district_id)
            .where(s.c.level == "station")
        )

    async def _one(self, query: sa.Select[Any]) -> StationRef | None:
        row = (await self._s.execute(query)).first()
        if row is None:
            return None
        return StationRef(row.id, row.code, row.name, row.district_id, row.dcode)

    async def station(self, station_id: uuid.UUID) -> StationRef | None:
        return await self._one(self._query().where(_STATION.c.id == station_id))

    async def station_by_code(self, code: str) -> StationRef | None:
        return await self._one(self._query().where(_STATION.c.code == code))

    async def community_in_station(self, community_id: uuid.UUID, station_id: uuid.UUID) -> bool:
        o = org_units
        query = sa.select(
            sa.exists().where(
                o.c.id == community_id, o.c.level == "community", o.c.station_id == station_id
            )
        )
        return bool((await self._s.execute(query)).scalar())

    async def district(self, district_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
        o = org_units
        row = (
            await self._s.execute(
                sa.select(o.c.id, o.c.code).where(o.c.id == district_id, o.c.level == "district")
            )
        ).first()
        return (row.id, row.code) if row is not None else None


def _series_lock(series: str) -> int:
    digest = hashlib.sha256(b"shouwang.volunteer_number\x00" + series.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SqlNumberCounter:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def next(self, district_id: uuid.UUID, year: int, *, series: str) -> int:
        # Held until commit: the caller's check that the number is still free and its
        # write of the number happen before any other district of the series counts on.
        await self._s.execute(sa.select(sa.func.pg_advisory_xact_lock(_series_lock(series))))
        c = volunteer_number_counters
        stmt = (
            insert(c)
            .values(district_id=district_id, year=year, last_value=1)
            .on_conflict_do_update(
                index_elements=[c.c.district_id, c.c.year],
                set_={"last_value": c.c.last_value + 1},
            )
            .returning(c.c.last_value)
        )
        return int((await self._s.execute(stmt)).scalar_one())


class SqlRoleGrants:
    """The resident-side roles (no unit) a volunteer's account holds."""

    def __init__(
        self, session: AsyncSession, changed: Callable[[uuid.UUID], None] | None = None
    ) -> None:
        self._s = session
        self._changed = changed  # told which account's roles may have changed

    async def sync(
        self, account_id: uuid.UUID, *, volunteer: bool, team_leader: bool, by: uuid.UUID
    ) -> None:
        if self._changed is not None:
            self._changed(account_id)
        r = account_roles
        for role, wanted in (("volunteer", volunteer), ("team_leader", team_leader)):
            if wanted:
                await self._s.execute(
                    insert(r)
                    .values(
                        id=new_id(), account_id=account_id, role=role, unit_id=None, granted_by=by
                    )
                    .on_conflict_do_nothing()
                )
            else:
                await self._s.execute(
                    sa.delete(r).where(
                        r.c.account_id == account_id, r.c.role == role, r.c.unit_id.is_(None)
                    )
                )
