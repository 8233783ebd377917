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

    A caller who also holds a district role has every station of the district in
    ``station_ids``; then only the units their station role is bound to count.
    """
    if scope.unrestricted:
        return True
    if not scope.has(Role.OFFICER, Role.STATION_ADMIN) or station_id not in scope.station_ids:
        return False
    if scope.has(Role.DISTRICT_ADMIN, Role.AUDITOR):
        return station_id in scope.unit_ids
    return True


def sees_full_personal_data(
    scope: Scope, station_id: uuid.UUID, account_id: uuid.UUID | None
) -> bool:
    """Full phone, ID number and address: the person themself and their station's staff.
    District admins, auditors and other volunteers see masked values (minimisation)."""
    return is_self(scope, account_id) or is_station_staff(scope, station_id)


def can_manage(scope: Scope, station_id: uuid.UUID, district_id: uuid.UUID) -> bool:
    """Change records of a station: its officers and station admins, or the district
    admin of its district. Auditors only read."""
    if scope.unrestricted:
        return True
    if scope.has(Role.OFFICER, Role.STATION_ADMIN) and station_id in scope.station_ids:
        return True
    return scope.has(Role.DISTRICT_ADMIN) and (
        station_id in scope.station_ids or district_id in scope.district_ids
    )


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
