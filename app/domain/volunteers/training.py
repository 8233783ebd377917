"""Unified training (统一培训, e.g. 警物联盟大学堂): courses and the certificates that
completing them gives, with an expiry that can gate duties (first aid for emergency units)."""

from __future__ import annotations

import calendar
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from app.domain.shared.clock import local_date
from app.domain.shared.errors import FieldError, InvalidInput
from app.domain.shared.text import storable

MAX_VALIDITY_MONTHS: Final = 120
_CODE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_CAPABILITY: Final = re.compile(r"[a-z][a-z0-9_]{0,39}")


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the end of shorter months (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _invalid(field: str, code: str, message_en: str, message_zh: str) -> InvalidInput:
    return InvalidInput(
        message_en,
        message_zh,
        code="course.invalid_input",
        fields=[FieldError(field, code, message_en)],
    )


@dataclass(frozen=True, slots=True)
class Course:
    id: uuid.UUID
    district_id: uuid.UUID
    # None: a district-wide course any station of the district may use.
    station_id: uuid.UUID | None
    code: str
    title: str
    capability: str | None
    validity_months: int | None  # None: the certificate does not expire
    created_at: datetime

    def usable_for(self, station_id: uuid.UUID, district_id: uuid.UUID) -> bool:
        if self.station_id is not None:
            return self.station_id == station_id
        return self.district_id == district_id

    def certificate_expiry(self, completed_on: date) -> date | None:
        if self.validity_months is None:
            return None
        return add_months(completed_on, self.validity_months)


def new_course(
    *,
    course_id: uuid.UUID,
    district_id: uuid.UUID,
    station_id: uuid.UUID | None,
    code: str,
    title: str,
    capability: str | None,
    validity_months: int | None,
    at: datetime,
) -> Course:
    code = code.strip()
    if _CODE.fullmatch(code) is None:
        raise _invalid(
            "code",
            "format",
            "Course codes are 1–40 letters, digits, '.', '_' or '-'.",
            "课程编码为1–40位字母、数字或“._-”。",
        )
    title = " ".join(title.split())
    if not title or len(title) > 200 or not storable(title):
        raise _invalid(
            "title", "length", "The title must be 1–200 characters.", "课程名称须为1–200个字符。"
        )
    if capability is not None:
        capability = capability.strip() or None
    if capability is not None and _CAPABILITY.fullmatch(capability) is None:
        raise _invalid(
            "capability",
            "format",
            "A capability is a snake_case code such as first_aid.",
            "能力须为 first_aid 这样的英文代码。",
        )
    if validity_months is not None and not 1 <= validity_months <= MAX_VALIDITY_MONTHS:
        raise _invalid(
            "validity_months",
            "range",
            f"Validity must be 1–{MAX_VALIDITY_MONTHS} months.",
            f"有效期须为1–{MAX_VALIDITY_MONTHS}个月。",
        )
    return Course(
        id=course_id,
        district_id=district_id,
        station_id=station_id,
        code=code,
        title=title,
        capability=capability,
        validity_months=validity_months,
        created_at=at,
    )


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    """One completion of a course by a volunteer, and the certificate it gives."""

    id: uuid.UUID
    volunteer_id: uuid.UUID
    course_id: uuid.UUID
    completed_on: date
    certificate_expires_on: date | None
    recorded_by: uuid.UUID
    recorded_at: datetime

    def valid_on(self, day: date) -> bool:
        if day < self.completed_on:
            return False
        return self.certificate_expires_on is None or day < self.certificate_expires_on


def new_training_record(
    *,
    record_id: uuid.UUID,
    volunteer_id: uuid.UUID,
    course: Course,
    completed_on: date,
    recorded_by: uuid.UUID,
    at: datetime,
) -> TrainingRecord:
    if completed_on > local_date(at):
        raise _invalid(
            "completed_on",
            "future",
            "The completion date cannot be in the future.",
            "完成日期不能晚于今天。",
        )
    return TrainingRecord(
        id=record_id,
        volunteer_id=volunteer_id,
        course_id=course.id,
        completed_on=completed_on,
        certificate_expires_on=course.certificate_expiry(completed_on),
        recorded_by=recorded_by,
        recorded_at=at,
    )


@dataclass(frozen=True, slots=True)
class Certificate:
    """A training record joined with its course, as duties and profiles see it."""

    record: TrainingRecord
    course: Course

    @property
    def capability(self) -> str | None:
        return self.course.capability
