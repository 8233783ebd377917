"""Use cases of unified training: courses, completions, certificates valid on a day."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from app.domain.shared.clock import Clock
from app.domain.shared.errors import FieldError, InvalidInput, NotAllowed
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role, Scope
from app.domain.volunteers.access import require_manage, require_not_self
from app.domain.volunteers.errors import (
    CourseNotFound,
    VolunteerInvalidTransition,
    VolunteerNotFound,
)
from app.domain.volunteers.ports import VolunteersUnitOfWork
from app.domain.volunteers.services import UowFactory, unknown_station
from app.domain.volunteers.training import (
    Certificate,
    Course,
    TrainingRecord,
    new_course,
    new_training_record,
)
from app.domain.volunteers.views import Page


@dataclass(frozen=True, slots=True)
class CourseInput:
    code: str
    title: str
    capability: str | None = None
    validity_months: int | None = None
    # A station course; without it, a district-wide course (district admins only).
    station_id: uuid.UUID | None = None
    district_id: uuid.UUID | None = None


class TrainingService:
    def __init__(self, uow_factory: UowFactory, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    async def create_course(self, scope: Scope, data: CourseInput) -> Course:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            station_id, district_id = await self._course_owner(uow, scope, data)
            course = new_course(
                course_id=new_id(),
                district_id=district_id,
                station_id=station_id,
                code=data.code,
                title=data.title,
                capability=data.capability,
                validity_months=data.validity_months,
                at=now,
            )
            await uow.training.add_course(course)
            uow.audit("course.created", "course", course.id, {"code": course.code})
            uow.add_event(
                DomainEvent(
                    "course.created",
                    "course",
                    course.id,
                    now,
                    {"district_id": district_id, "station_id": station_id},
                )
            )
            await uow.commit()
        return course

    async def _course_owner(
        self, uow: VolunteersUnitOfWork, scope: Scope, data: CourseInput
    ) -> tuple[uuid.UUID | None, uuid.UUID]:
        station_id, district_id = data.station_id, data.district_id
        if station_id is None and district_id is None:
            # Default owner: a district admin's district, or an officer's only station.
            administered = scope.districts_as(Role.DISTRICT_ADMIN)
            if len(administered) == 1:
                district_id = next(iter(administered))
            elif len(writable := scope.stations_as(Role.OFFICER, Role.STATION_ADMIN)) == 1:
                station_id = next(iter(writable))
        if station_id is not None:
            station = await uow.stations.station(station_id)
            if station is None:
                raise unknown_station()
            require_manage(scope, station.id, station.district_id)
            return station.id, station.district_id
        if district_id is None:
            message = "Give the station or the district of the course."
            raise InvalidInput(
                message,
                "请指定课程所属派出所或分局。",
                code="course.owner_required",
                fields=[FieldError("station_id", "required", message)],
            )
        if not scope.unrestricted and district_id not in scope.districts_as(Role.DISTRICT_ADMIN):
            raise NotAllowed(
                "Only the district admin creates district-wide courses.",
                "只有分局管理员可以创建全分局课程。",
                code="course.district_admin_only",
            )
        if await uow.stations.district(district_id) is None:
            raise InvalidInput(code="course.unknown_district")
        return None, district_id

    async def get_course(self, scope: Scope, course_id: uuid.UUID) -> Course:
        async with self.uow_factory(scope) as uow:
            course = await uow.training.get_course(course_id)
        if course is None:
            raise CourseNotFound()
        return course

    async def get_courses(self, scope: Scope, ids: list[uuid.UUID]) -> list[Course]:
        async with self.uow_factory(scope) as uow:
            return await uow.training.get_courses(ids)

    async def list_courses(
        self, scope: Scope, *, limit: int, after: uuid.UUID | None = None
    ) -> Page[Course]:
        async with self.uow_factory(scope) as uow:
            rows = await uow.training.list_courses(limit=limit + 1, after=after)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, (rows[-1].id,) if more and rows else None)

    async def record_training(
        self, scope: Scope, volunteer_id: uuid.UUID, course_id: uuid.UUID, completed_on: date
    ) -> Certificate:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            v = await uow.volunteers.get(volunteer_id)
            if v is None:
                raise VolunteerNotFound()
            require_not_self(scope, v.account_id)
            require_manage(scope, v.station_id, v.district_id)
            if not v.is_open:
                raise VolunteerInvalidTransition(
                    f"Training cannot be recorded for a '{v.status}' volunteer.",
                    f"不能为状态为“{v.status}”的志愿者录入培训。",
                )
            course = await uow.training.get_course(course_id)
            if course is None or not course.usable_for(v.station_id, v.district_id):
                raise CourseNotFound()
            record: TrainingRecord = new_training_record(
                record_id=new_id(),
                volunteer_id=v.id,
                course=course,
                completed_on=completed_on,
                recorded_by=scope.account_id,
                at=now,
            )
            await uow.training.add_record(record)
            uow.audit(
                "training.recorded", "volunteer", v.id, {"course_id": course.id, "id": record.id}
            )
            uow.add_event(
                DomainEvent(
                    "training.recorded",
                    "volunteer",
                    v.id,
                    now,
                    {"course_id": course.id, "training_record_id": record.id},
                )
            )
            await uow.commit()
        return Certificate(record=record, course=course)

    async def trainings(self, scope: Scope, volunteer_id: uuid.UUID) -> list[Certificate]:
        """Every completion of a visible volunteer, newest first."""
        async with self.uow_factory(scope) as uow:
            if await uow.volunteers.get(volunteer_id) is None:
                raise VolunteerNotFound()
            return await uow.training.certificates([volunteer_id])

    async def certificates_of(
        self, scope: Scope, volunteer_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[Certificate]]:
        """Batch read for DataLoaders: completions per volunteer (volunteers in scope)."""
        out: dict[uuid.UUID, list[Certificate]] = {i: [] for i in volunteer_ids}
        async with self.uow_factory(scope) as uow:
            for c in await uow.training.certificates(volunteer_ids):
                out[c.record.volunteer_id].append(c)
        return out

    async def trainings_by_ids(self, scope: Scope, ids: list[uuid.UUID]) -> list[Certificate]:
        async with self.uow_factory(scope) as uow:
            return await uow.training.certificates_by_ids(ids)

    async def valid_certificates(
        self, scope: Scope, volunteer_id: uuid.UUID, on: date
    ) -> list[Certificate]:
        """Certificates valid on ``on`` — what duties (e.g. emergency units needing
        first aid) check before assigning a volunteer."""
        return [c for c in await self.trainings(scope, volunteer_id) if c.record.valid_on(on)]

    async def has_valid_certificate(
        self, scope: Scope, volunteer_id: uuid.UUID, capability: str, on: date
    ) -> bool:
        certificates = await self.valid_certificates(scope, volunteer_id, on)
        return any(c.capability == capability for c in certificates)
