"""Request and response bodies of /api/v1/hazards (隐患), hazard departments and
sub-categories."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.api.rest.common import LocationIn, LocationOut
from app.domain.hazards.model import (
    CODE_MAX,
    DESCRIPTION_MAX,
    MAX_MEDIA,
    NAME_MAX,
    NOTE_MAX,
    PLACE_MAX,
    Category,
    Department,
    DepartmentKind,
    HazardStatus,
    Outcome,
    TopCategory,
)
from app.domain.hazards.ports import NearbyHazard, StatsLevel, StatsRow
from app.domain.hazards.services import Audience, HazardView
from app.domain.shared.geo import Crs

COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such hazard you may see"},
    422: {"description": "Invalid input"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {
        "description": "Not allowed (station staff, the responsible party, a re-inspector "
        "or a reporter, depending on the step)"
    },
    409: {"description": "Not allowed from the hazard's current status, or media not ready"},
    412: {"description": "If-Match does not match the current version"},
}
CREATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    404: {"description": "A media id or sub-category is unknown (nothing is stored)"},
    409: {
        "description": "The id names someone else's hazard, Idempotency-Key in flight, "
        "or a photo is not ready or attached elsewhere (nothing is stored)"
    },
}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not a district admin of that district"},
    404: {"description": "No such department or sub-category"},
    409: {"description": "The code is taken"},
    422: {"description": "Invalid input"},
}


class HazardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = Field(
        None, description="Client-generated id; a retry with the same id returns it (200)"
    )
    category: TopCategory
    subcategory_id: uuid.UUID | None = None
    description: str = Field(
        min_length=1, max_length=DESCRIPTION_MAX, examples=["楼道内有电动车违规充电，电线私拉乱接"]
    )
    location: LocationIn
    place: str | None = Field(None, max_length=PLACE_MAX, examples=["花园小区3幢1单元"])
    media_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_MEDIA)


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    duplicate_of: uuid.UUID | None = Field(None, description="With outcome duplicate")


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: uuid.UUID = Field(description="The surviving hazard")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department_id: uuid.UUID | None = Field(
        None, description="Default: the sub-category's responsible department"
    )
    assignee_account_id: uuid.UUID | None = Field(
        None, description="One account of the department (optional)"
    )
    deadline: date | None = Field(
        None, description="整改期限 (Beijing date); default from the sub-category, else 7 days"
    )


class RectifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_media_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_MEDIA)
    note: str = Field(
        min_length=1, max_length=NOTE_MAX, examples=["已拆除私拉电线，设置集中充电点"]
    )


class ReinspectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passed: bool
    note: str | None = Field(None, max_length=NOTE_MAX)
    new_deadline: date | None = Field(None, description="On fail: a new deadline")


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=NOTE_MAX, examples=["整改后又出现私拉电线"])
    media_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_MEDIA)


class NearbyHazardOut(BaseModel):
    """An open hazard of the category nearby: no reporter, no text, a coarse distance."""

    id: uuid.UUID
    category: TopCategory
    status: HazardStatus
    distance_m: int = Field(description="Rounded to 10 m")
    photo_id: uuid.UUID | None

    @classmethod
    def of(cls, n: NearbyHazard) -> NearbyHazardOut:
        return cls(
            id=n.id,
            category=n.category,
            status=n.status,
            distance_m=n.distance_m,
            photo_id=n.photo_id,
        )


class NearbyOut(BaseModel):
    items: list[NearbyHazardOut]


class HazardHistoryOut(BaseModel):
    at: datetime
    kind: str
    from_status: HazardStatus | None
    to_status: HazardStatus
    by: uuid.UUID | None = Field(description="Staff only")
    detail: dict[str, Any]


class HazardOut(BaseModel):
    """A hazard as the caller may see it (``audience``). Only station staff learn who
    reported (``reporter_ids``)."""

    id: uuid.UUID
    audience: Audience
    category: TopCategory
    subcategory_id: uuid.UUID | None
    description: str
    place: str | None
    location: LocationOut
    media_ids: list[uuid.UUID]
    status: HazardStatus
    outcome: Outcome | None
    duplicate_of: uuid.UUID | None
    department_id: uuid.UUID | None
    deadline: date | None
    overdue_level: int = Field(description="0 on time, 1 station told, 2 district told")
    after_media_ids: list[uuid.UUID]
    rectification_note: str | None
    reported_at: datetime
    verified_at: datetime | None
    rectified_at: datetime | None
    closed_at: datetime | None
    station_id: uuid.UUID | None
    district_id: uuid.UUID
    community_id: uuid.UUID | None
    grid_id: uuid.UUID | None
    # Staff only (null for everyone else).
    reporter_ids: list[uuid.UUID] | None = None
    assignee_account_id: uuid.UUID | None = None
    linked_ids: list[uuid.UUID] | None = None
    # Staff and the responsible party, on single records.
    history: list[HazardHistoryOut] | None = None
    # On a report: open hazards of the category nearby, maybe the same one.
    possible_duplicates: list[NearbyHazardOut] | None = None
    version: int

    @classmethod
    def of(cls, view: HazardView, crs: Crs = Crs.WGS84) -> HazardOut:
        z = view.hazard
        route = z.routing
        staff = view.is_staff
        history = view.history
        return cls(
            id=z.id,
            audience=view.audience,
            category=z.category,
            subcategory_id=z.subcategory_id,
            description=z.description,
            place=z.place,
            location=LocationOut.of(z.location, crs),
            media_ids=list(z.media_ids),
            status=z.status,
            outcome=z.outcome,
            duplicate_of=z.duplicate_of,
            department_id=z.department_id,
            deadline=z.deadline,
            overdue_level=z.escalation,
            after_media_ids=list(z.after_media_ids),
            rectification_note=z.rectification_note,
            reported_at=z.reported_at,
            verified_at=z.verified_at,
            rectified_at=z.rectified_at,
            closed_at=z.closed_at,
            station_id=route.station_id,
            district_id=route.district_id,
            community_id=route.community_id,
            grid_id=route.grid_id,
            reporter_ids=view.reporters,
            assignee_account_id=z.assignee_account_id if staff else None,
            linked_ids=view.linked if staff else None,
            history=[
                HazardHistoryOut(
                    at=ev.at,
                    kind=ev.kind.value,
                    from_status=ev.from_status,
                    to_status=ev.to_status,
                    by=ev.by if staff else None,
                    detail=ev.detail,
                )
                for ev in history
            ]
            if history
            else None,
            possible_duplicates=[NearbyHazardOut.of(n) for n in view.possible_duplicates]
            if view.created
            else None,
            version=z.version,
        )


class StatsRowOut(BaseModel):
    unit_id: uuid.UUID | None
    unit_name: str | None
    verified_real: int
    rectified_closed: int
    rectification_rate: float | None = Field(description="rectified_closed ÷ verified_real")
    median_hours_to_rectify: float | None
    overdue: int
    escalated_to_district: int

    @classmethod
    def of(cls, row: StatsRow) -> StatsRowOut:
        rate = row.rectification_rate
        return cls(
            unit_id=row.unit_id,
            unit_name=row.unit_name,
            verified_real=row.verified_real,
            rectified_closed=row.rectified_closed,
            rectification_rate=round(rate, 4) if rate is not None else None,
            median_hours_to_rectify=row.median_hours_to_rectify,
            overdue=row.overdue,
            escalated_to_district=row.escalated_to_district,
        )


class StatsOut(BaseModel):
    level: StatsLevel
    items: list[StatsRowOut]


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    district_id: uuid.UUID
    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["武进区消防救援大队"])
    kind: DepartmentKind


class DepartmentOut(BaseModel):
    id: uuid.UUID
    district_id: uuid.UUID
    name: str
    kind: DepartmentKind

    @classmethod
    def of(cls, dep: Department) -> DepartmentOut:
        return cls(id=dep.id, district_id=dep.district_id, name=dep.name, kind=dep.kind)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: uuid.UUID


class MemberOut(BaseModel):
    department_id: uuid.UUID
    account_id: uuid.UUID
    added: bool


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    district_id: uuid.UUID
    category: TopCategory
    code: str = Field(min_length=1, max_length=CODE_MAX, examples=["ebike_charging"])
    name_zh: str = Field(min_length=1, max_length=NAME_MAX, examples=["电动车违规充电"])
    name_en: str = Field(min_length=1, max_length=NAME_MAX, examples=["Illegal e-bike charging"])
    department_id: uuid.UUID | None = None
    rectification_days: int = Field(7, ge=1, le=365)
    duplicate_radius_m: int = Field(50, ge=1, le=500)
    duplicate_window_days: int = Field(30, ge=1, le=365)


class CategoryOut(BaseModel):
    id: uuid.UUID
    district_id: uuid.UUID
    category: TopCategory
    code: str
    name_zh: str
    name_en: str
    department_id: uuid.UUID | None
    rectification_days: int
    duplicate_radius_m: int
    duplicate_window_days: int

    @classmethod
    def of(cls, cat: Category) -> CategoryOut:
        return cls(
            id=cat.id,
            district_id=cat.district_id,
            category=cat.top,
            code=cat.code,
            name_zh=cat.name_zh,
            name_en=cat.name_en,
            department_id=cat.department_id,
            rectification_days=cat.rectification_days,
            duplicate_radius_m=cat.duplicate_radius_m,
            duplicate_window_days=cat.duplicate_window_days,
        )
