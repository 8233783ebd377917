"""The hazard (隐患) and its rectification (整改), as the domain enforces it.

reported → verified (outcome real; ``not_hazard`` closes it; a duplicate is merged into
its survivor and closed) → assigned (to a department or responsible party, with a
deadline 整改期限) → rectifying → rectified (after-photos and a note, by the assignee) →
re-inspected: pass closes it, fail returns it to rectifying. While assigned or rectifying
past the deadline it escalates on a schedule (1: the station is told, 2: the district).
A reporter may reopen a closed hazard (not a merged one) with a photo and a reason: it
goes back to reported. Every change is kept as a ``HazardEvent``.

Categories: seven pinned top-level codes; districts manage sub-categories under them with
the responsible department, the default rectification days and the duplicate rule.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from app.domain.hazards.errors import (
    CannotMerge,
    HazardInvalidTransition,
    NotReinspector,
)
from app.domain.organisation.model import Routing as Routing  # shared by the reports
from app.domain.shared.clock import local_date
from app.domain.shared.errors import field_invalid
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.text import storable

DESCRIPTION_MAX = 2000
PLACE_MAX = 100
NOTE_MAX = 500
NAME_MAX = 60
CODE_MAX = 40
MAX_MEDIA = 9
DEFAULT_RECTIFICATION_DAYS = 7
DEFAULT_DUPLICATE_RADIUS_M = 50
DEFAULT_DUPLICATE_WINDOW_DAYS = 30
MAX_DUPLICATE_RADIUS_M = 500
MAX_RECTIFICATION_DAYS = 365
# Overdue escalation schedule: level 1 (station told) the day after the deadline,
# level 2 (district told) this many days after the deadline.
DISTRICT_ESCALATION_AFTER_DAYS = 3
_CODE = re.compile(r"[a-z0-9_]+")


class TopCategory(StrEnum):
    """Pinned codes: clients send these."""

    PUBLIC_ORDER = "public_order"  # 治安
    TRAFFIC = "traffic"  # 交通
    FIRE = "fire"  # 消防（电动车违规充电、私拉乱接电线）
    HOUSING_CONSTRUCTION = "housing_construction"  # 房屋建筑
    HEALTH = "health"  # 卫生
    DOGS = "dogs"  # 犬只
    OTHER = "other"


class HazardStatus(StrEnum):
    REPORTED = "reported"
    VERIFIED = "verified"
    ASSIGNED = "assigned"
    RECTIFYING = "rectifying"
    RECTIFIED = "rectified"
    CLOSED = "closed"


OPEN_STATUSES = frozenset(s for s in HazardStatus if s != HazardStatus.CLOSED)


class Outcome(StrEnum):
    """What verification found."""

    REAL = "real"
    NOT_HAZARD = "not_hazard"
    DUPLICATE = "duplicate"


class DepartmentKind(StrEnum):
    FIRE = "fire"
    HOUSING = "housing"
    URBAN_MANAGEMENT = "urban_management"
    HEALTH = "health"
    TRAFFIC = "traffic"
    PROPERTY_COMPANY = "property_company"  # 物业公司 (a responsible party)
    SHOP = "shop"  # 商户 (a responsible party)
    OTHER = "other"


class EventKind(StrEnum):
    REPORTED = "reported"
    VERIFIED = "verified"
    MERGED = "merged"  # this hazard was merged into another
    ABSORBED = "absorbed"  # another hazard was merged into this one
    ASSIGNED = "assigned"
    STARTED = "started"
    RECTIFIED = "rectified"
    REINSPECTED = "reinspected"
    CLOSED = "closed"
    REOPENED = "reopened"
    ESCALATED = "escalated"


def _text(
    value: str | None, limit: int, code: str, field_name: str, zh: str, *, required: bool
) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise field_invalid(code, field_name, f"The {field_name} is required.", zh)
        return None
    if len(text) > limit or not storable(text):
        raise field_invalid(
            code, field_name, f"The {field_name} must be 1 to {limit} characters.", zh
        )
    return text


def checked_description(description: str) -> str:
    text = _text(
        description,
        DESCRIPTION_MAX,
        "hazard.description_invalid",
        "description",
        f"请描述隐患情况（1至{DESCRIPTION_MAX}字）。",
        required=True,
    )
    assert text is not None
    return text


def checked_place(place: str | None) -> str | None:
    return _text(
        place,
        PLACE_MAX,
        "hazard.place_invalid",
        "place",
        f"地点（小区、楼栋、店铺）最多{PLACE_MAX}字。",
        required=False,
    )


def checked_photos(
    media_ids: tuple[uuid.UUID, ...], field_name: str = "media_ids"
) -> tuple[uuid.UUID, ...]:
    photos = tuple(dict.fromkeys(media_ids))
    if not photos:
        raise field_invalid(
            "hazard.photo_required",
            field_name,
            "Attach at least one photo.",
            "请至少附一张照片。",
        )
    if len(photos) > MAX_MEDIA:
        raise field_invalid(
            "hazard.too_many_media",
            field_name,
            f"Attach at most {MAX_MEDIA} photos.",
            f"最多附{MAX_MEDIA}张照片。",
        )
    return photos


def checked_note(note: str | None, *, required: bool, field_name: str = "note") -> str | None:
    return _text(
        note,
        NOTE_MAX,
        "hazard.note_invalid",
        field_name,
        f"说明须为1至{NOTE_MAX}字。",
        required=required,
    )


@dataclass(frozen=True, slots=True)
class DuplicateRule:
    radius_m: int = DEFAULT_DUPLICATE_RADIUS_M
    window_days: int = DEFAULT_DUPLICATE_WINDOW_DAYS


@dataclass(slots=True)
class Category:
    """A district's sub-category (子类别) under a pinned top-level code."""

    id: uuid.UUID
    district_id: uuid.UUID
    top: TopCategory
    code: str
    name_zh: str
    name_en: str
    department_id: uuid.UUID | None = None
    rectification_days: int = DEFAULT_RECTIFICATION_DAYS
    duplicate_radius_m: int = DEFAULT_DUPLICATE_RADIUS_M
    duplicate_window_days: int = DEFAULT_DUPLICATE_WINDOW_DAYS

    @classmethod
    def new(
        cls,
        *,
        district_id: uuid.UUID,
        top: TopCategory,
        code: str,
        name_zh: str,
        name_en: str,
        department_id: uuid.UUID | None = None,
        rectification_days: int = DEFAULT_RECTIFICATION_DAYS,
        duplicate_radius_m: int = DEFAULT_DUPLICATE_RADIUS_M,
        duplicate_window_days: int = DEFAULT_DUPLICATE_WINDOW_DAYS,
    ) -> Category:
        clean_code = (code or "").strip().lower()
        if not _CODE.fullmatch(clean_code) or len(clean_code) > CODE_MAX:
            raise field_invalid(
                "hazard.category_code_invalid",
                "code",
                f"The code is 1 to {CODE_MAX} letters, digits or underscores.",
                f"编码须为1至{CODE_MAX}位字母、数字或下划线。",
            )
        names = [
            _text(
                n,
                NAME_MAX,
                "hazard.category_name_invalid",
                f,
                f"名称须为1至{NAME_MAX}字。",
                required=True,
            )
            for n, f in ((name_zh, "name_zh"), (name_en, "name_en"))
        ]
        if not 1 <= rectification_days <= MAX_RECTIFICATION_DAYS:
            raise field_invalid(
                "hazard.rectification_days_invalid",
                "rectification_days",
                f"Rectification days are 1 to {MAX_RECTIFICATION_DAYS}.",
                f"整改期限天数须为1至{MAX_RECTIFICATION_DAYS}。",
            )
        if not 1 <= duplicate_radius_m <= MAX_DUPLICATE_RADIUS_M:
            raise field_invalid(
                "hazard.duplicate_radius_invalid",
                "duplicate_radius_m",
                f"The duplicate radius is 1 to {MAX_DUPLICATE_RADIUS_M} m.",
                f"重复判定半径须为1至{MAX_DUPLICATE_RADIUS_M}米。",
            )
        if not 1 <= duplicate_window_days <= 365:
            raise field_invalid(
                "hazard.duplicate_window_invalid",
                "duplicate_window_days",
                "The duplicate window is 1 to 365 days.",
                "重复判定时间窗须为1至365天。",
            )
        return cls(
            id=new_id(),
            district_id=district_id,
            top=top,
            code=clean_code,
            name_zh=names[0] or "",
            name_en=names[1] or "",
            department_id=department_id,
            rectification_days=rectification_days,
            duplicate_radius_m=duplicate_radius_m,
            duplicate_window_days=duplicate_window_days,
        )

    @property
    def duplicate_rule(self) -> DuplicateRule:
        return DuplicateRule(self.duplicate_radius_m, self.duplicate_window_days)


@dataclass(slots=True)
class Department:
    """A department (消防、住建、城管、卫健…) or responsible party (物业公司、商户) whose
    member accounts act on the hazards assigned to it: 部门报到."""

    id: uuid.UUID
    district_id: uuid.UUID
    name: str
    kind: DepartmentKind

    @classmethod
    def new(cls, district_id: uuid.UUID, name: str, kind: DepartmentKind) -> Department:
        text = _text(
            name,
            NAME_MAX,
            "hazard.department_name_invalid",
            "name",
            f"名称须为1至{NAME_MAX}字。",
            required=True,
        )
        return cls(new_id(), district_id, text or "", kind)


@dataclass(frozen=True, slots=True)
class HazardEvent:
    """One entry of the history."""

    id: uuid.UUID
    hazard_id: uuid.UUID
    kind: EventKind
    at: datetime
    from_status: HazardStatus | None
    to_status: HazardStatus
    by: uuid.UUID | None
    detail: dict[str, Any] = field(default_factory=dict)


def escalation_level(deadline: date | None, today: date) -> int:
    """0 on time; 1 from the day after the deadline; 2 from
    ``DISTRICT_ESCALATION_AFTER_DAYS`` days after it."""
    if deadline is None or today <= deadline:
        return 0
    return 2 if today >= deadline + timedelta(days=DISTRICT_ESCALATION_AFTER_DAYS) else 1


@dataclass(slots=True)
class Hazard:
    id: uuid.UUID
    category: TopCategory
    description: str
    location: GeoPoint
    routing: Routing
    reporter_id: uuid.UUID  # the first reporter
    reported_at: datetime
    media_ids: tuple[uuid.UUID, ...]
    subcategory_id: uuid.UUID | None = None
    place: str | None = None
    status: HazardStatus = HazardStatus.REPORTED
    outcome: Outcome | None = None
    duplicate_of: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    assignee_account_id: uuid.UUID | None = None
    deadline: date | None = None
    rectification_note: str | None = None
    after_media_ids: tuple[uuid.UUID, ...] = ()
    rectified_by: uuid.UUID | None = None
    escalation: int = 0
    verified_at: datetime | None = None
    assigned_at: datetime | None = None
    rectified_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1
    updated_at: datetime | None = None
    # Every account that reported it (the first, then those of merged duplicates).
    reporters: list[uuid.UUID] = field(default_factory=list)
    # Changes not yet stored (the repository writes and clears them).
    pending: list[HazardEvent] = field(default_factory=list)
    new_reporters: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)

    @classmethod
    def report(
        cls,
        *,
        id: uuid.UUID,
        category: TopCategory,
        description: str,
        location: GeoPoint,
        routing: Routing,
        reporter_id: uuid.UUID,
        media_ids: tuple[uuid.UUID, ...],
        at: datetime,
        place: str | None = None,
        subcategory_id: uuid.UUID | None = None,
    ) -> Hazard:
        hazard = cls(
            id=id,
            category=category,
            description=checked_description(description),
            location=location,
            routing=routing,
            reporter_id=reporter_id,
            reported_at=at,
            media_ids=checked_photos(media_ids),
            subcategory_id=subcategory_id,
            place=checked_place(place),
            updated_at=at,
            reporters=[reporter_id],
        )
        hazard.new_reporters.append((reporter_id, id))
        hazard._record(EventKind.REPORTED, HazardStatus.REPORTED, at, reporter_id, initial=True)
        return hazard

    # --- reading --------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_reporter(self, account_id: uuid.UUID) -> bool:
        return account_id in self.reporters

    def overdue(self, today: date) -> bool:
        return (
            self.status in (HazardStatus.ASSIGNED, HazardStatus.RECTIFYING)
            and escalation_level(self.deadline, today) > 0
        )

    # --- changes --------------------------------------------------------------------------

    def _record(
        self,
        kind: EventKind,
        to: HazardStatus,
        at: datetime,
        by: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
        *,
        initial: bool = False,
    ) -> HazardEvent:
        event = HazardEvent(
            new_id(), self.id, kind, at, None if initial else self.status, to, by, detail or {}
        )
        self.status = to
        self.updated_at = at
        self.pending.append(event)
        return event

    def _require(self, *allowed: HazardStatus) -> None:
        if self.status not in allowed:
            raise HazardInvalidTransition()

    def verify(self, outcome: Outcome, *, at: datetime, by: uuid.UUID) -> None:
        """Real: verified, ready to assign. Not a hazard: closed. Duplicates go through
        ``merge_into`` (they need the survivor)."""
        self._require(HazardStatus.REPORTED)
        if outcome == Outcome.DUPLICATE:
            raise field_invalid(
                "hazard.duplicate_needs_survivor",
                "outcome",
                "Merge a duplicate into the hazard it repeats.",
                "重复隐患请合并到原隐患。",
            )
        self.outcome = outcome
        detail = {"outcome": outcome.value}
        if outcome == Outcome.REAL:
            self.verified_at = self.verified_at or at
            self._record(EventKind.VERIFIED, HazardStatus.VERIFIED, at, by, detail)
        else:
            self._record(EventKind.VERIFIED, self.status, at, by, detail)
            self._close(at, by, "not_hazard")

    def _close(self, at: datetime, by: uuid.UUID | None, reason: str) -> None:
        self.closed_at = at
        self._record(EventKind.CLOSED, HazardStatus.CLOSED, at, by, {"reason": reason})

    def merge_into(self, survivor: Hazard, *, at: datetime, by: uuid.UUID) -> None:
        """This hazard repeats ``survivor``: closed as its duplicate; its reporters follow
        the survivor (and hear of its progress)."""
        if survivor.id == self.id or not survivor.is_open:
            raise CannotMerge()
        if self.status not in (HazardStatus.REPORTED, HazardStatus.VERIFIED):
            raise HazardInvalidTransition()
        if survivor.category != self.category:
            raise CannotMerge()
        self.outcome = Outcome.DUPLICATE
        self.duplicate_of = survivor.id
        self._record(EventKind.MERGED, self.status, at, by, {"into": str(survivor.id)})
        self._close(at, by, "duplicate")
        for account in self.reporters:
            if account not in survivor.reporters:
                survivor.reporters.append(account)
                survivor.new_reporters.append((account, self.id))
        survivor._record(EventKind.ABSORBED, survivor.status, at, by, {"from": str(self.id)})

    def check_assignable(self) -> None:
        self._require(HazardStatus.VERIFIED, HazardStatus.ASSIGNED, HazardStatus.RECTIFYING)

    def assign(
        self,
        *,
        department_id: uuid.UUID,
        deadline: date,
        at: datetime,
        by: uuid.UUID,
        assignee_account_id: uuid.UUID | None = None,
    ) -> None:
        """To a department or responsible party (optionally one of its accounts), with a
        deadline that is not in the past; reassigning before rectification is allowed."""
        self.check_assignable()
        if deadline < local_date(at):
            raise field_invalid(
                "hazard.deadline_past",
                "deadline",
                "The deadline cannot be in the past.",
                "整改期限不能早于今天。",
            )
        self.department_id = department_id
        self.assignee_account_id = assignee_account_id
        self.deadline = deadline
        self.assigned_at = at
        self.escalation = 0
        detail = {"department_id": str(department_id), "deadline": deadline.isoformat()}
        self._record(EventKind.ASSIGNED, HazardStatus.ASSIGNED, at, by, detail)

    def start(self, *, at: datetime, by: uuid.UUID) -> None:
        self._require(HazardStatus.ASSIGNED)
        self._record(EventKind.STARTED, HazardStatus.RECTIFYING, at, by)

    def rectify(
        self,
        after_media_ids: tuple[uuid.UUID, ...],
        note: str | None,
        *,
        at: datetime,
        by: uuid.UUID,
    ) -> None:
        """The assignee reports it fixed, with after-photos and a note (from assigned, the
        start is implied)."""
        self._require(HazardStatus.ASSIGNED, HazardStatus.RECTIFYING)
        photos = checked_photos(after_media_ids, "after_media_ids")
        text = checked_note(note, required=True)
        if self.status == HazardStatus.ASSIGNED:
            self.start(at=at, by=by)
        self.after_media_ids = photos
        self.rectification_note = text
        self.rectified_by = by
        self.rectified_at = at
        self._record(EventKind.RECTIFIED, HazardStatus.RECTIFIED, at, by)

    def reinspect(
        self,
        passed: bool,
        note: str | None,
        *,
        at: datetime,
        by: uuid.UUID,
        new_deadline: date | None = None,
    ) -> None:
        """Pass closes it; fail returns it to rectifying (optionally with a new deadline).
        Whoever rectified it may not re-inspect it."""
        self._require(HazardStatus.RECTIFIED)
        if by == self.rectified_by:
            raise NotReinspector()
        text = checked_note(note, required=not passed)
        detail: dict[str, Any] = {"passed": passed}
        if text:
            detail["note"] = text
        if passed:
            self._record(EventKind.REINSPECTED, self.status, at, by, detail)
            self._close(at, by, "rectified")
            return
        if new_deadline is not None:
            if new_deadline < local_date(at):
                raise field_invalid(
                    "hazard.deadline_past",
                    "deadline",
                    "The deadline cannot be in the past.",
                    "整改期限不能早于今天。",
                )
            self.deadline = new_deadline
            self.escalation = 0
            detail["deadline"] = new_deadline.isoformat()
        self.rectified_at = None
        self._record(EventKind.REINSPECTED, HazardStatus.RECTIFYING, at, by, detail)

    def reopen(
        self, reason: str, media_ids: tuple[uuid.UUID, ...], *, at: datetime, by: uuid.UUID
    ) -> tuple[uuid.UUID, ...]:
        """A reporter says it is back (or was a hazard after all): with a photo and a
        reason it returns to reported; merged duplicates are followed on the survivor."""
        self._require(HazardStatus.CLOSED)
        if self.outcome == Outcome.DUPLICATE:
            raise HazardInvalidTransition()
        text = checked_note(reason, required=True, field_name="reason")
        photos = checked_photos(media_ids)
        previous = self.outcome.value if self.outcome else None
        self.outcome = None
        self.department_id = None
        self.assignee_account_id = None
        self.deadline = None
        self.rectified_at = None
        self.rectified_by = None
        self.closed_at = None
        self.escalation = 0
        self.media_ids = tuple(dict.fromkeys(self.media_ids + photos))
        detail = {
            "reason": text,
            "previous_outcome": previous,
            "media_ids": [str(m) for m in photos],
        }
        self._record(EventKind.REOPENED, HazardStatus.REPORTED, at, by, detail)
        return photos

    def escalate(self, today: date, *, at: datetime) -> int | None:
        """Raise the escalation level to what the schedule says; the new level, or None
        when nothing changes (levels never go down here)."""
        if self.status not in (HazardStatus.ASSIGNED, HazardStatus.RECTIFYING):
            return None
        level = escalation_level(self.deadline, today)
        if level <= self.escalation:
            return None
        self.escalation = level
        self._record(EventKind.ESCALATED, self.status, at, None, {"level": level})
        return level
