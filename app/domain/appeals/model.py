"""The police appeal (协查通报 / 寻人启事) and its rules.

draft → published → withdrawn; a published appeal stops being shown once it expires.
The target is either organisation units (grids, communities, stations) or a WGS-84
MultiPolygon; either way it is stored as one area that volunteers are matched against.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.domain.appeals.errors import AppealInvalidTransition
from app.domain.organisation.geojson import parse_boundary
from app.domain.organisation.model import Boundary
from app.domain.shared.errors import field_invalid
from app.domain.shared.text import storable

TITLE_MAX = 100
BODY_MAX = 5000
MAX_LIFETIME = timedelta(days=90)
MAX_TARGET_UNITS = 50
MAX_MEDIA = 9


class AppealKind(StrEnum):
    APPEAL = "appeal"  # 协查通报
    MISSING_PERSON = "missing_person"  # 寻人


class AppealStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Target:
    """Exactly one of ``unit_ids`` (grid/community/station units) or ``polygon``."""

    unit_ids: tuple[uuid.UUID, ...] = ()
    polygon: Boundary | None = None

    @classmethod
    def of(cls, unit_ids: list[uuid.UUID] | None, polygon: dict[str, Any] | None) -> Target:
        units = tuple(dict.fromkeys(unit_ids or ()))
        if bool(units) == (polygon is not None):
            raise field_invalid(
                "appeal.target_required",
                "target",
                "Target either organisation units or a polygon (exactly one).",
                "请指定协查范围：组织单元或多边形（二选一）。",
            )
        if len(units) > MAX_TARGET_UNITS:
            raise field_invalid(
                "appeal.too_many_units",
                "target.unit_ids",
                f"Target at most {MAX_TARGET_UNITS} units.",
                f"协查范围最多{MAX_TARGET_UNITS}个单元。",
            )
        if polygon is None:
            return cls(unit_ids=units)
        try:
            boundary = parse_boundary(polygon)
        except Exception as reason:  # the parser's own rejection, with its reason
            raise field_invalid(
                "appeal.polygon_invalid",
                "target.polygon",
                f"The polygon is not a valid WGS-84 (Multi)Polygon: {reason}",
                f"多边形不是有效的WGS-84(多)多边形：{reason}",
            ) from None
        return cls(polygon=boundary)


def _text(value: str, limit: int, field_name: str, zh: str) -> str:
    text = value.strip()
    if not text or len(text) > limit or not storable(text):
        raise field_invalid(
            f"appeal.{field_name}_invalid",
            field_name,
            f"The {field_name} must be 1 to {limit} characters.",
            f"{zh}应为1至{limit}字。",
        )
    return text


def check_expiry(expires_at: datetime, now: datetime) -> None:
    if expires_at <= now or expires_at - now > MAX_LIFETIME:
        raise field_invalid(
            "appeal.expiry_invalid",
            "expires_at",
            "The expiry must be in the future and at most 90 days away.",
            "有效期须晚于当前时间且不超过90天。",
        )


@dataclass(slots=True)
class Appeal:
    id: uuid.UUID
    station_id: uuid.UUID | None  # None: a district-level appeal
    district_id: uuid.UUID
    kind: AppealKind
    title: str
    body: str
    target: Target
    expires_at: datetime
    created_by: uuid.UUID
    media_ids: tuple[uuid.UUID, ...] = ()
    status: AppealStatus = AppealStatus.DRAFT
    published_at: datetime | None = None
    withdrawn_at: datetime | None = None
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def draft(
        cls,
        *,
        id: uuid.UUID,
        station_id: uuid.UUID | None,
        district_id: uuid.UUID,
        kind: AppealKind,
        title: str,
        body: str,
        target: Target,
        expires_at: datetime,
        media_ids: tuple[uuid.UUID, ...],
        created_by: uuid.UUID,
        now: datetime,
    ) -> Appeal:
        if len(media_ids) > MAX_MEDIA:
            raise field_invalid(
                "appeal.too_many_media",
                "media_ids",
                f"Attach at most {MAX_MEDIA} photos.",
                f"最多附{MAX_MEDIA}张照片。",
            )
        check_expiry(expires_at, now)
        return cls(
            id=id,
            station_id=station_id,
            district_id=district_id,
            kind=kind,
            title=_text(title, TITLE_MAX, "title", "标题"),
            body=_text(body, BODY_MAX, "body", "正文"),
            target=target,
            expires_at=expires_at,
            media_ids=tuple(dict.fromkeys(media_ids)),
            created_by=created_by,
        )

    def is_live(self, now: datetime) -> bool:
        return self.status == AppealStatus.PUBLISHED and self.expires_at > now

    def publish(self, now: datetime) -> None:
        if self.status != AppealStatus.DRAFT:
            raise AppealInvalidTransition()
        check_expiry(self.expires_at, now)
        self.status = AppealStatus.PUBLISHED
        self.published_at = now
        self.updated_at = now

    def withdraw(self, now: datetime) -> None:
        if self.status == AppealStatus.WITHDRAWN:
            raise AppealInvalidTransition()
        self.status = AppealStatus.WITHDRAWN
        self.withdrawn_at = now
        self.updated_at = now
