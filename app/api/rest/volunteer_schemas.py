"""Pydantic shapes of the volunteers context shared by its REST routers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.volunteers.glossary import (
    PREFERRED_ROLE_LABELS,
    SOURCE_CATEGORY_LABELS,
    TEAM_TYPE_LABELS,
    PreferredRole,
    SourceCategory,
    TeamType,
)
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import BackgroundCheck, CheckResult, Origin, StatusChange
from app.domain.volunteers.recruitment import MAX_SKILLS, ConsentInput
from app.domain.volunteers.teams import Team
from app.domain.volunteers.training import Certificate, Course
from app.domain.volunteers.views import MemberView, TeamDetail, VolunteerView

COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such record in your scope"},
    422: {"description": "Invalid input"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {"description": "Not allowed (staff of the record's station only; never your own)"},
    409: {"description": "Conflicts with the current state, or Idempotency-Key in flight"},
}
EDIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS,
    412: {"description": "If-Match does not match the current version"},
    428: {"description": "If-Match is required"},
}


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notice_version: str = Field(max_length=40, examples=["2026-11"])
    accepted: bool

    def to_domain(self) -> ConsentInput:
        return ConsentInput(self.notice_version, self.accepted)


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=50, examples=["张伟"])
    phone: str = Field(max_length=20, examples=["13800138000"])
    resident_id: str = Field(max_length=24, description="居民身份证号 (18 characters)")
    address: str = Field(max_length=200, examples=["常州市武进区湖塘镇花园街1号"])
    station_id: uuid.UUID | None = Field(
        default=None, description="Station to join (applications: required)"
    )
    community_id: uuid.UUID | None = None
    source_category: SourceCategory
    skills: list[str] = Field(default_factory=list, max_length=MAX_SKILLS)
    preferred_roles: list[PreferredRole] = Field(default_factory=list, max_length=4)


class ApplicationIn(PersonIn):
    consent: ConsentIn


class RegistrationIn(PersonIn):
    consent: ConsentIn | None = Field(
        default=None, description="Consent given on paper, attested by the officer"
    )


class ProfilePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=200)
    skills: list[str] | None = Field(default=None, max_length=MAX_SKILLS)
    preferred_roles: list[PreferredRole] | None = Field(default=None, max_length=4)
    has_photo: bool | None = None
    source_category: SourceCategory | None = None
    community_id: uuid.UUID | None = None


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: VolunteerStatus
    reason: str | None = Field(default=None, max_length=500)


class BackgroundCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: CheckResult
    checked_on: date | None = Field(default=None, description="Default: today (UTC+8)")
    note: str | None = Field(default=None, max_length=500)
    next_recheck_on: date | None = Field(
        default=None, description="Default: one year after a passed check"
    )


class VolunteerOut(BaseModel):
    """Personal data is full only for the person and their station's staff; else masked."""

    id: uuid.UUID
    station_id: uuid.UUID
    district_id: uuid.UUID
    community_id: uuid.UUID | None
    name: str
    phone: str
    resident_id: str
    address: str
    full_personal_data: bool
    source_category: SourceCategory
    source_category_label: str
    skills: list[str]
    preferred_roles: list[PreferredRole]
    has_photo: bool
    status: VolunteerStatus
    origin: Origin
    volunteer_number: str | None
    badge_token: str | None
    activated_at: datetime | None
    next_recheck_on: date | None
    consent_notice_version: str | None
    consent_at: datetime | None
    created_at: datetime
    version: int

    @classmethod
    def of(cls, v: VolunteerView) -> VolunteerOut:
        return cls(
            id=v.id,
            station_id=v.station_id,
            district_id=v.district_id,
            community_id=v.community_id,
            name=v.name,
            phone=v.phone,
            resident_id=v.resident_id,
            address=v.address,
            full_personal_data=v.full_personal_data,
            source_category=v.source_category,
            source_category_label=SOURCE_CATEGORY_LABELS[v.source_category],
            skills=list(v.skills),
            preferred_roles=list(v.preferred_roles),
            has_photo=v.has_photo,
            status=v.status,
            origin=v.origin,
            volunteer_number=v.volunteer_number,
            badge_token=v.badge_token,
            activated_at=v.activated_at,
            next_recheck_on=v.next_recheck_on,
            consent_notice_version=v.consent_notice_version,
            consent_at=v.consent_at,
            created_at=v.created_at,
            version=v.version,
        )


class StatusChangeOut(BaseModel):
    from_status: VolunteerStatus | None
    to_status: VolunteerStatus
    reason: str | None
    by: uuid.UUID
    at: datetime

    @classmethod
    def of(cls, c: StatusChange) -> StatusChangeOut:
        return cls(
            from_status=c.from_status, to_status=c.to_status, reason=c.reason, by=c.by, at=c.at
        )


class BackgroundCheckOut(BaseModel):
    id: uuid.UUID
    volunteer_id: uuid.UUID
    checked_by: uuid.UUID
    checked_on: date
    result: CheckResult
    note: str | None
    next_recheck_on: date | None
    recorded_at: datetime

    @classmethod
    def of(cls, c: BackgroundCheck) -> BackgroundCheckOut:
        return cls(
            id=c.id,
            volunteer_id=c.volunteer_id,
            checked_by=c.checked_by,
            checked_on=c.checked_on,
            result=c.result,
            note=c.note,
            next_recheck_on=c.next_recheck_on,
            recorded_at=c.recorded_at,
        )


class CheckRecordedOut(BaseModel):
    check: BackgroundCheckOut
    volunteer: VolunteerOut


class TeamOut(BaseModel):
    id: uuid.UUID
    station_id: uuid.UUID
    district_id: uuid.UUID
    brand: str
    name: str
    type: TeamType
    type_label: str
    leader_id: uuid.UUID | None
    created_at: datetime
    version: int

    @classmethod
    def of(cls, t: Team) -> TeamOut:
        return cls(
            id=t.id,
            station_id=t.station_id,
            district_id=t.district_id,
            brand=t.brand,
            name=t.name,
            type=t.type,
            type_label=TEAM_TYPE_LABELS[t.type],
            leader_id=t.leader_id,
            created_at=t.created_at,
            version=t.version,
        )


class MemberOut(BaseModel):
    volunteer_id: uuid.UUID
    name: str
    volunteer_number: str | None
    status: VolunteerStatus
    joined_at: datetime
    is_leader: bool

    @classmethod
    def of(cls, m: MemberView) -> MemberOut:
        return cls(
            volunteer_id=m.volunteer_id,
            name=m.name,
            volunteer_number=m.volunteer_number,
            status=m.status,
            joined_at=m.joined_at,
            is_leader=m.is_leader,
        )


class TeamDetailOut(TeamOut):
    members: list[MemberOut]

    @classmethod
    def of_detail(cls, d: TeamDetail) -> TeamDetailOut:
        return cls(**TeamOut.of(d.team).model_dump(), members=[MemberOut.of(m) for m in d.members])


class CourseOut(BaseModel):
    id: uuid.UUID
    district_id: uuid.UUID
    station_id: uuid.UUID | None
    code: str
    title: str
    capability: str | None
    validity_months: int | None
    created_at: datetime

    @classmethod
    def of(cls, c: Course) -> CourseOut:
        return cls(
            id=c.id,
            district_id=c.district_id,
            station_id=c.station_id,
            code=c.code,
            title=c.title,
            capability=c.capability,
            validity_months=c.validity_months,
            created_at=c.created_at,
        )


class TrainingOut(BaseModel):
    id: uuid.UUID
    volunteer_id: uuid.UUID
    course: CourseOut
    completed_on: date
    certificate_expires_on: date | None = Field(
        description="First day the certificate is no longer valid (null: never expires)"
    )
    recorded_by: uuid.UUID
    recorded_at: datetime

    @classmethod
    def of(cls, c: Certificate) -> TrainingOut:
        r = c.record
        return cls(
            id=r.id,
            volunteer_id=r.volunteer_id,
            course=CourseOut.of(c.course),
            completed_on=r.completed_on,
            certificate_expires_on=r.certificate_expires_on,
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
        )


def labels() -> dict[str, dict[str, str]]:
    """The glossary (codes → Chinese labels) for clients building forms."""
    return {
        "source_categories": {k.value: v for k, v in SOURCE_CATEGORY_LABELS.items()},
        "preferred_roles": {k.value: v for k, v in PREFERRED_ROLE_LABELS.items()},
        "team_types": {k.value: v for k, v in TEAM_TYPE_LABELS.items()},
    }
