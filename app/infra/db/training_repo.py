"""Courses and training records. Courses are visible to their station's staff, and
district-wide courses to everyone working in that district; records follow the
visibility of the volunteer they belong to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.shared.scope import Scope
from app.domain.volunteers.errors import CourseCodeTaken
from app.domain.volunteers.training import Certificate, Course, TrainingRecord
from app.infra.db.tables.organisation import org_units
from app.infra.db.tables.volunteers import courses, training_records, volunteers
from app.infra.db.volunteers_repo import volunteer_visible

c = courses
r = training_records


def course_visible(scope: Scope) -> sa.ColumnElement[bool]:
    if scope.unrestricted:
        return sa.true()
    clauses: list[sa.ColumnElement[bool]] = []
    if scope.station_ids:
        stations = list(scope.station_ids)
        clauses.append(c.c.station_id.in_(stations))
        # District-wide courses of the districts the caller's stations belong to.
        districts_of_stations = sa.select(org_units.c.district_id).where(
            org_units.c.id.in_(stations)
        )
        clauses.append(
            sa.and_(c.c.station_id.is_(None), c.c.district_id.in_(districts_of_stations))
        )
    if scope.district_ids:
        clauses.append(c.c.district_id.in_(list(scope.district_ids)))
    return sa.or_(*clauses) if clauses else sa.false()


def _course(row: Any) -> Course:
    return Course(
        id=row.id,
        district_id=row.district_id,
        station_id=row.station_id,
        code=row.code,
        title=row.title,
        capability=row.capability,
        validity_months=row.validity_months,
        created_at=row.created_at,
    )


class SqlTrainingRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self._s = session
        self._scope = scope

    async def add_course(self, course: Course) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(
                    sa.insert(c).values(
                        id=course.id,
                        district_id=course.district_id,
                        station_id=course.station_id,
                        code=course.code,
                        title=course.title,
                        capability=course.capability,
                        validity_months=course.validity_months,
                        created_at=course.created_at,
                    )
                )
        except IntegrityError as exc:
            if "uq_courses_district_id_code" in str(exc.orig):
                raise CourseCodeTaken() from None
            raise

    async def get_course(self, course_id: uuid.UUID) -> Course | None:
        query = sa.select(c).where(c.c.id == course_id, course_visible(self._scope))
        row = (await self._s.execute(query)).first()
        return _course(row) if row is not None else None

    async def get_courses(self, ids: Sequence[uuid.UUID]) -> list[Course]:
        if not ids:
            return []
        query = sa.select(c).where(c.c.id.in_(list(ids)), course_visible(self._scope))
        return [_course(row) for row in (await self._s.execute(query)).all()]

    async def list_courses(self, *, limit: int, after: uuid.UUID | None) -> list[Course]:
        query = sa.select(c).where(course_visible(self._scope))
        if after is not None:
            query = query.where(c.c.id < after)
        query = query.order_by(c.c.id.desc()).limit(limit)
        return [_course(row) for row in (await self._s.execute(query)).all()]

    async def add_record(self, record: TrainingRecord) -> None:
        await self._s.execute(
            sa.insert(r).values(
                id=record.id,
                volunteer_id=record.volunteer_id,
                course_id=record.course_id,
                completed_on=record.completed_on,
                certificate_expires_on=record.certificate_expires_on,
                recorded_by=record.recorded_by,
                recorded_at=record.recorded_at,
            )
        )

    async def certificates(self, volunteer_ids: Sequence[uuid.UUID]) -> list[Certificate]:
        if not volunteer_ids:
            return []
        return await self._certificates(r.c.volunteer_id.in_(list(volunteer_ids)))

    async def certificates_by_ids(self, record_ids: Sequence[uuid.UUID]) -> list[Certificate]:
        if not record_ids:
            return []
        return await self._certificates(r.c.id.in_(list(record_ids)))

    async def _certificates(self, where: sa.ColumnElement[bool]) -> list[Certificate]:
        v = volunteers
        query = (
            sa.select(r, *[col.label(f"c_{col.name}") for col in c.c])
            .join(c, c.c.id == r.c.course_id)
            .join(v, v.c.id == r.c.volunteer_id)
            .where(where, volunteer_visible(self._scope, v))
            .order_by(r.c.completed_on.desc(), r.c.id.desc())
        )
        out: list[Certificate] = []
        for row in await self._s.execute(query):
            course = Course(
                id=row.c_id,
                district_id=row.c_district_id,
                station_id=row.c_station_id,
                code=row.c_code,
                title=row.c_title,
                capability=row.c_capability,
                validity_months=row.c_validity_months,
                created_at=row.c_created_at,
            )
            record = TrainingRecord(
                id=row.id,
                volunteer_id=row.volunteer_id,
                course_id=row.course_id,
                completed_on=row.completed_on,
                certificate_expires_on=row.certificate_expires_on,
                recorded_by=row.recorded_by,
                recorded_at=row.recorded_at,
            )
            out.append(Certificate(record=record, course=course))
        return out
