"""Who may see what and change what in the volunteers context.

The SQL scope filter decides *whether* a record is visible at all (foreign → 404);
these rules decide, for a visible record, how much of it the caller sees and whether
they may change it.
"""

from __future__ import annotations

import uuid

from app.domain.shared.errors import NotAllowed
from app.domain.shared.scope import Role, Scope


def is_self(scope: Scope, account_id: uuid.UUID | None) -> bool:
    return account_id is not None and account_id == scope.account_id and not scope.unrestricted


def is_station_staff(scope: Scope, station_id: uuid.UUID) -> bool:
    """Officers and station admins of the record's own station (社区民警, 所领导).

    Only the stations those two roles are bound to count: an account that also audits
    other stations, or administers a district, is not their station staff.
    """
    if scope.unrestricted:
        return True
    return station_id in scope.stations_as(Role.OFFICER, Role.STATION_ADMIN)


def sees_full_personal_data(
    scope: Scope, station_id: uuid.UUID, account_id: uuid.UUID | None
) -> bool:
    """Full phone, ID number and address: the person themself and their station's staff.
    District admins, auditors and other volunteers see masked values (minimisation)."""
    return is_self(scope, account_id) or is_station_staff(scope, station_id)


def can_manage(scope: Scope, station_id: uuid.UUID, district_id: uuid.UUID) -> bool:
    """Change records of a station: its officers and station admins, or the district
    admin of its district. Auditors only read, and what an account reaches as auditor
    never counts for its other roles."""
    if scope.unrestricted:
        return True
    if is_station_staff(scope, station_id):
        return True
    return station_id in scope.stations_as(
        Role.DISTRICT_ADMIN
    ) or district_id in scope.districts_as(Role.DISTRICT_ADMIN)


def require_manage(scope: Scope, station_id: uuid.UUID, district_id: uuid.UUID) -> None:
    if not can_manage(scope, station_id, district_id):
        raise NotAllowed(
            "Only staff of this station or its district may do this.",
            "只有本派出所或所属分局的工作人员可以执行此操作。",
            code="volunteer.staff_only",
        )


def require_not_self(scope: Scope, account_id: uuid.UUID | None) -> None:
    """Nobody manages their own volunteer record, whatever other roles they hold."""
    if is_self(scope, account_id):
        raise NotAllowed(
            "You cannot change your own volunteer status or checks.",
            "不能变更本人的志愿者状态或审查记录。",
            code="volunteer.own_record",
        )
