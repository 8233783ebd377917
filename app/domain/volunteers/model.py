"""The volunteer archive (统一档案): one record per person, its lifecycle and checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from app.domain.shared.clock import local_date
from app.domain.shared.errors import FieldError, InvalidInput
from app.domain.shared.text import storable
from app.domain.volunteers.errors import VolunteerInvalidTransition
from app.domain.volunteers.glossary import PreferredRole, SourceCategory
from app.domain.volunteers.lifecycle import (
    BY_CHECK_ONLY,
    FINAL,
    REASON_REQUIRED,
    VolunteerStatus,
    is_allowed,
)

S = VolunteerStatus
MAX_REASON = 500
FAILED_CHECK_REASON = "background check failed / 背景审查未通过"


class Origin(StrEnum):
    APPLICATION = "application"  # the resident applied in the app or mini-program
    REGISTRATION = "registration"  # an officer registered the person
    IMPORT = "import"  # bulk import by an operator


class CheckResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, repr=False)
class PersonalData:
    """The values sealed at rest; plaintext only inside the process."""

    phone: str
    resident_id: str
    address: str

    def __repr__(self) -> str:
        return "PersonalData(<redacted>)"


@dataclass(frozen=True, slots=True)
class Consent:
    notice_version: str
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class StatusChange:
    volunteer_id: uuid.UUID
    from_status: VolunteerStatus | None
    to_status: VolunteerStatus
    reason: str | None
    by: uuid.UUID
    at: datetime


@dataclass(frozen=True, slots=True)
class BackgroundCheck:  # 背景审查
    id: uuid.UUID
    volunteer_id: uuid.UUID
    checked_by: uuid.UUID
    checked_on: date
    result: CheckResult
    note: str | None
    next_recheck_on: date | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Identification:
    """Unified identification (统一标识): volunteer number and badge token."""

    number: str
    badge_token: str


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


_FIELD_ZH = {"reason": "原因", "note": "备注"}


def _clean_reason(reason: str | None, field_name: str = "reason") -> str | None:
    text = (reason or "").strip()
    label_zh = _FIELD_ZH.get(field_name, field_name)
    if not storable(text):
        raise InvalidInput(
            f"The {field_name} contains characters that cannot be stored.",
            f"{label_zh}中含有无法保存的字符。",
            code=f"volunteer.invalid_{field_name}",
            fields=[FieldError(field_name, "invalid_characters", "invalid characters")],
        )
    if len(text) > MAX_REASON:
        raise InvalidInput(
            f"The {field_name} must be at most {MAX_REASON} characters.",
            f"{label_zh}不能超过{MAX_REASON}个字符。",
            code=f"volunteer.{field_name}_too_long",
            fields=[FieldError(field_name, "too_long", f"{field_name} is too long")],
        )
    return text or None


@dataclass(slots=True)
class Volunteer:
    id: uuid.UUID
    station_id: uuid.UUID
    district_id: uuid.UUID
    name: str
    personal: PersonalData
    source_category: SourceCategory
    origin: Origin
    created_at: datetime
    account_id: uuid.UUID | None = None
    community_id: uuid.UUID | None = None
    skills: tuple[str, ...] = ()
    preferred_roles: tuple[PreferredRole, ...] = ()
    has_photo: bool = False
    status: VolunteerStatus = S.APPLIED
    status_before_suspension: VolunteerStatus | None = None
    consent: Consent | None = None
    identification: Identification | None = None
    activated_at: datetime | None = None
    next_recheck_on: date | None = None
    version: int = 1
    # Written with the next save, then cleared by the repository.
    new_changes: list[StatusChange] = field(default_factory=list)
    new_checks: list[BackgroundCheck] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL

    @property
    def needs_identification(self) -> bool:
        return self.identification is None

    def check_transition(self, target: VolunteerStatus, reason: str | None) -> str | None:
        """Raise unless ``target`` may be set by hand now; return the cleaned reason."""
        if target in BY_CHECK_ONLY:
            raise VolunteerInvalidTransition(
                f"'{target}' is the outcome of a background check; record a check instead.",
                f"“{target}”由背景审查结果决定，请录入背景审查。",
            )
        self._check_allowed(target)
        cleaned = _clean_reason(reason)
        if target in REASON_REQUIRED and cleaned is None:
            raise InvalidInput(
                "A reason is required for this status change.",
                "此状态变更需要填写原因。",
                code="volunteer.reason_required",
                fields=[FieldError("reason", "required", "a reason is required")],
            )
        return cleaned

    def _check_allowed(self, target: VolunteerStatus) -> None:
        if not is_allowed(self.status, target):
            raise VolunteerInvalidTransition(
                f"A volunteer cannot go from '{self.status}' to '{target}'.",
                f"志愿者不能从“{self.status}”变更为“{target}”。",
            )
        returning = self.status == S.SUSPENDED and target in (S.ACTIVE, S.PROBATION)
        if returning and target != self.status_before_suspension:
            raise VolunteerInvalidTransition(
                f"A suspended volunteer returns to '{self.status_before_suspension}' only.",
                f"暂停的志愿者只能恢复为“{self.status_before_suspension}”。",
            )

    def change_status(
        self,
        target: VolunteerStatus,
        *,
        reason: str | None,
        by: uuid.UUID,
        at: datetime,
        identification: Identification | None = None,
    ) -> StatusChange:
        """A status change made by staff. The first activation needs an identification."""
        cleaned = self.check_transition(target, reason)
        if target == S.ACTIVE and self.identification is None:
            if identification is None:
                raise ValueError("first activation needs a volunteer number and badge token")
            self.identification = identification
            self.activated_at = at
        return self._move(target, cleaned, by, at)

    def _move(
        self, target: VolunteerStatus, reason: str | None, by: uuid.UUID, at: datetime
    ) -> StatusChange:
        if target == S.SUSPENDED:
            self.status_before_suspension = self.status
        elif self.status == S.SUSPENDED:
            self.status_before_suspension = None
        change = StatusChange(self.id, self.status, target, reason, by, at)
        self.status = target
        self.new_changes.append(change)
        return change

    def record_check(self, check: BackgroundCheck) -> StatusChange | None:
        """Record a background check (or periodic re-check) and apply its consequence.

        A passed first check vets an applicant; a failed one rejects anyone who has not
        served yet and suspends a serving volunteer. Every check sets the next due date.
        """
        if check.volunteer_id != self.id:
            raise ValueError("check belongs to another volunteer")
        if self.status in FINAL:
            raise VolunteerInvalidTransition(
                f"No background check can be recorded for a '{self.status}' volunteer.",
                f"无法为状态为“{self.status}”的志愿者录入背景审查。",
            )
        self.new_checks.append(check)
        self.next_recheck_on = check.next_recheck_on
        by, at = check.checked_by, check.recorded_at
        if check.result == CheckResult.PASSED:
            if self.status == S.APPLIED:
                return self._move(S.VETTED, None, by, at)
            return None
        note = _clean_reason(check.note)
        if self.status in (S.APPLIED, S.VETTED, S.TRAINING):
            return self._move(S.REJECTED, note or FAILED_CHECK_REASON, by, at)
        if self.status in (S.PROBATION, S.ACTIVE):
            return self._move(S.SUSPENDED, FAILED_CHECK_REASON, by, at)
        return None  # already suspended: the failed re-check is on file


def new_background_check(
    *,
    volunteer_id: uuid.UUID,
    checked_by: uuid.UUID,
    checked_on: date,
    result: CheckResult,
    note: str | None,
    next_recheck_on: date | None,
    recorded_at: datetime,
    check_id: uuid.UUID,
) -> BackgroundCheck:
    """A passed check is due again after one year unless another date is given; a failed
    one has no next date (the volunteer is out or suspended)."""
    if next_recheck_on is not None and next_recheck_on <= checked_on:
        raise InvalidInput(
            "The next re-check date must be after the check date.",
            "下次复查日期必须晚于本次审查日期。",
            code="volunteer.invalid_recheck_date",
            fields=[FieldError("next_recheck_on", "before_check", "must be after checked_on")],
        )
    if checked_on > local_date(recorded_at):
        raise InvalidInput(
            "The check date cannot be in the future.",
            "审查日期不能晚于今天。",
            code="volunteer.check_in_future",
            fields=[FieldError("checked_on", "future", "must not be in the future")],
        )
    due: date | None = None
    if result == CheckResult.PASSED:
        due = next_recheck_on or one_year_after(checked_on)
    return BackgroundCheck(
        id=check_id,
        volunteer_id=volunteer_id,
        checked_by=checked_by,
        checked_on=checked_on,
        result=result,
        note=_clean_reason(note, "note"),
        next_recheck_on=due,
        recorded_at=recorded_at,
    )


def new_volunteer(
    *,
    volunteer_id: uuid.UUID,
    station_id: uuid.UUID,
    district_id: uuid.UUID,
    community_id: uuid.UUID | None,
    account_id: uuid.UUID | None,
    name: str,
    personal: PersonalData,
    source_category: SourceCategory,
    skills: tuple[str, ...],
    preferred_roles: tuple[PreferredRole, ...],
    origin: Origin,
    consent: Consent | None,
    by: uuid.UUID,
    at: datetime,
) -> Volunteer:
    """A new archive record in status ``applied``; its first history entry says who
    created it and when."""
    volunteer = Volunteer(
        id=volunteer_id,
        station_id=station_id,
        district_id=district_id,
        community_id=community_id,
        account_id=account_id,
        name=name,
        personal=personal,
        source_category=source_category,
        skills=skills,
        preferred_roles=preferred_roles,
        origin=origin,
        consent=consent,
        created_at=at,
    )
    volunteer.new_changes.append(StatusChange(volunteer_id, None, S.APPLIED, None, by, at))
    return volunteer


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Editable profile fields; ``None`` leaves a field unchanged."""

    name: str | None = None
    phone: str | None = None
    address: str | None = None
    skills: tuple[str, ...] | None = None
    preferred_roles: tuple[str, ...] | None = None
    has_photo: bool | None = None
    source_category: str | None = None
    community_id: uuid.UUID | None = None

    # What the person may change about themself; the rest is the station's archive.
    SELF_EDITABLE = frozenset({"phone", "address", "skills", "preferred_roles", "has_photo"})

    def fields_set(self) -> frozenset[str]:
        names = (
            "name",
            "phone",
            "address",
            "skills",
            "preferred_roles",
            "has_photo",
            "source_category",
            "community_id",
        )
        return frozenset(n for n in names if getattr(self, n) is not None)
