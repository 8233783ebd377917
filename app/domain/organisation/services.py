"""Use cases of the organisation context: reading the unit tree, locating points, importing
jurisdictions and managing watch points (守望点)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.domain.organisation.geojson import parse_feature_collection
from app.domain.organisation.importing import plan_import
from app.domain.organisation.model import (
    Level,
    OrgUnit,
    OutsideJurisdiction,
    Placement,
    Slice,
    WatchPoint,
    WatchPointCodeTaken,
    check_code,
    new_qr_token,
)
from app.domain.organisation.ports import (
    JurisdictionLocator,
    OrganisationUnitOfWork,
    UnitFilter,
    WatchPointFilter,
)
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed, NotFound, StaleVersion
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.imports import ImportReport, Progress, no_progress
from app.domain.shared.scope import Scope

UowFactory = Callable[[Scope], OrganisationUnitOfWork]


class OrgUnitNotFound(NotFound):
    code = "org_unit.not_found"
    message_en = "The organisation unit was not found."
    message_zh = "未找到该组织单位。"


class WatchPointNotFound(NotFound):
    code = "watch_point.not_found"
    message_en = "The watch point was not found."
    message_zh = "未找到该守望点。"


class StaffOnly(NotAllowed):
    code = "organisation.staff_only"
    message_en = "Only police staff may view the organisation and its watch points."
    message_zh = "仅公安工作人员可查看组织机构和守望点。"


class WatchPointWriteNotAllowed(NotAllowed):
    code = "watch_point.not_allowed"
    message_en = "Only officers and admins of the station may change its watch points."
    message_zh = "只有本派出所的民警和管理人员可以修改守望点。"


class ImportNotAllowed(NotAllowed):
    code = "org_import.not_allowed"
    message_en = "Only the operator may import jurisdictions."
    message_zh = "只有系统运维人员可以导入辖区。"


def _require_staff(scope: Scope) -> None:
    if not (scope.unrestricted or scope.is_staff):
        raise StaffOnly()


class OrgUnitService:
    """The unit tree as the caller's scope shows it, and where a point belongs."""

    def __init__(self, uow_factory: UowFactory, locator: JurisdictionLocator) -> None:
        self.uow_factory = uow_factory
        self.locator = locator

    async def list_units(
        self,
        scope: Scope,
        *,
        level: Level | None = None,
        parent_id: uuid.UUID | None = None,
        limit: int = 50,
        after: uuid.UUID | None = None,
        with_boundary: bool = False,
    ) -> Slice[OrgUnit]:
        _require_staff(scope)
        async with self.uow_factory(scope) as uow:
            return await uow.org_units.page(
                UnitFilter(level, parent_id), limit=limit, after=after, with_boundary=with_boundary
            )

    async def get_unit(
        self, scope: Scope, unit_id: uuid.UUID, *, with_boundary: bool = False
    ) -> OrgUnit:
        _require_staff(scope)
        async with self.uow_factory(scope) as uow:
            unit = await uow.org_units.get(unit_id, with_boundary=with_boundary)
        if unit is None:
            raise OrgUnitNotFound()
        return unit

    async def children(
        self,
        scope: Scope,
        unit_id: uuid.UUID,
        *,
        limit: int = 50,
        after: uuid.UUID | None = None,
        with_boundary: bool = False,
    ) -> Slice[OrgUnit]:
        """Children of a visible unit that are themselves visible (a station officer
        looking at the district sees only their own station below it)."""
        _require_staff(scope)
        async with self.uow_factory(scope) as uow:
            if await uow.org_units.get(unit_id) is None:
                raise OrgUnitNotFound()
            return await uow.org_units.page(
                UnitFilter(parent_id=unit_id), limit=limit, after=after, with_boundary=with_boundary
            )

    async def units_by_ids(
        self, scope: Scope, ids: Iterable[uuid.UUID], *, with_boundary: bool = False
    ) -> dict[uuid.UUID, OrgUnit]:
        """Visible units among ``ids`` (for DataLoaders); others are left out."""
        if not (scope.unrestricted or scope.is_staff):
            return {}
        async with self.uow_factory(scope) as uow:
            units = await uow.org_units.by_ids(ids, with_boundary=with_boundary)
        return {u.id: u for u in units}

    async def locate(self, scope: Scope, point: GeoPoint) -> Placement:
        """Any signed-in caller may ask where a point belongs (the app shows the station
        a report will go to); only ids, codes and names are revealed."""
        return await self.locator.locate(point)


class JurisdictionImportService:
    """``shouwang import-jurisdictions``: load or update the tree from GeoJSON."""

    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        id_factory: Callable[[], uuid.UUID] = new_id,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.new_id = id_factory

    async def import_file(
        self, scope: Scope, raw: bytes | str, progress: Progress = no_progress
    ) -> ImportReport:
        """Every feature is accepted or rejected with its reason; accepted ones are written
        in one transaction. An unreadable file raises ``InvalidImportFile``."""
        if not scope.unrestricted:
            raise ImportNotAllowed()
        parsed = parse_feature_collection(raw)
        report = ImportReport(total=parsed.total)
        async with self.uow_factory(scope) as uow:
            codes = {d.code for d in parsed.drafts} | {
                d.parent_code for d in parsed.drafts if d.parent_code
            }
            existing = await uow.org_units.by_codes(codes)
            districts = {
                u.id if u.level is Level.DISTRICT else u.district_id for u in existing.values()
            }
            stations: dict[uuid.UUID, list[OrgUnit]] = {}
            for station in await uow.org_units.stations_of(d for d in districts if d):
                if station.district_id is not None:
                    stations.setdefault(station.district_id, []).append(station)
            plan = plan_import(parsed, existing, stations, new_id=self.new_id, progress=progress)
            await uow.org_units.add_all(plan.created)
            for unit in plan.updated:
                await uow.org_units.update_shape(unit)
            now = self.clock.now()
            for action, units in (("created", plan.created), ("updated", plan.updated)):
                for unit in units:
                    detail = {"code": unit.code, "level": unit.level.value, "version": unit.version}
                    uow.audit(f"org_unit.{action}", "org_unit", unit.id, detail)
                    uow.add_event(
                        DomainEvent(f"org_unit.{action}", "org_unit", unit.id, now, detail)
                    )
            uow.audit(
                "org_unit.import",
                "org_unit",
                None,
                {
                    "total": parsed.total,
                    "created": len(plan.created),
                    "updated": len(plan.updated),
                    "unchanged": len(plan.unchanged),
                    "rejected": len(plan.rejected),
                },
            )
            await uow.commit()
        for _ in range(plan.accepted):
            report.accept()
        for rejection in plan.rejected:
            report.reject(rejection.ref, rejection.reason)
        return report


@dataclass(frozen=True, slots=True)
class NewWatchPoint:
    name: str
    location: GeoPoint
    radius_m: int
    code: str | None = None


@dataclass(frozen=True, slots=True)
class WatchPointChanges:
    name: str | None = None
    location: GeoPoint | None = None
    radius_m: int | None = None


class WatchPointService:
    """守望点: staff of a station create and keep the points volunteers patrol."""

    def __init__(
        self,
        uow_factory: UowFactory,
        locator: JurisdictionLocator,
        clock: Clock,
        token_factory: Callable[[], str] = new_qr_token,
    ) -> None:
        self.uow_factory = uow_factory
        self.locator = locator
        self.clock = clock
        self.new_token = token_factory

    async def _placement_for(self, scope: Scope, point: GeoPoint) -> Placement:
        """Route the point; it must land in a station the caller covers as a writer."""
        placement = await self.locator.locate(point)
        if placement.station_id is None or not _writes_at(scope, placement.station_id):
            raise OutsideJurisdiction()
        return placement

    @staticmethod
    def _require_writer(scope: Scope, station_id: uuid.UUID | None = None) -> None:
        """A writing role at all, and, for an existing point, one that reaches its station
        (reading it through an auditor role is not enough)."""
        if not (scope.unrestricted or scope.can_write_org_data):
            raise WatchPointWriteNotAllowed()
        if station_id is not None and not _writes_at(scope, station_id):
            raise WatchPointWriteNotAllowed()

    async def create(self, scope: Scope, command: NewWatchPoint) -> WatchPoint:
        self._require_writer(scope)
        placement = await self._placement_for(scope, command.location)
        assert placement.station is not None  # set whenever station_id is
        code = check_code(command.code) if command.code else _generated_code(placement)
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            if await uow.watch_points.code_taken(code):
                raise WatchPointCodeTaken()
            point = WatchPoint.create(
                watch_point_id=new_id(),
                code=code,
                name=command.name,
                location=command.location,
                radius_m=command.radius_m,
                placement=placement,
                created_by=scope.account_id,
                qr_token=self.new_token(),
                at=now,
            )
            await uow.watch_points.add(point)
            detail = {"code": point.code, "station_id": point.station_id}
            uow.audit("watch_point.created", "watch_point", point.id, detail)
            uow.add_event(DomainEvent("watch_point.created", "watch_point", point.id, now, detail))
            await uow.commit()
        return point

    async def get(self, scope: Scope, watch_point_id: uuid.UUID) -> WatchPoint:
        _require_staff(scope)
        async with self.uow_factory(scope) as uow:
            point = await uow.watch_points.get(watch_point_id)
        if point is None:
            raise WatchPointNotFound()
        return point

    async def list_points(
        self,
        scope: Scope,
        where: WatchPointFilter,
        *,
        limit: int = 50,
        after: uuid.UUID | None = None,
    ) -> Slice[WatchPoint]:
        _require_staff(scope)
        async with self.uow_factory(scope) as uow:
            return await uow.watch_points.page(where, limit=limit, after=after)

    async def by_ids(self, scope: Scope, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, WatchPoint]:
        if not (scope.unrestricted or scope.is_staff):
            return {}
        async with self.uow_factory(scope) as uow:
            return {p.id: p for p in await uow.watch_points.by_ids(ids)}

    async def update(
        self,
        scope: Scope,
        watch_point_id: uuid.UUID,
        expected_version: int,
        changes: WatchPointChanges,
    ) -> WatchPoint:
        async with self.uow_factory(scope) as uow:
            point = await self._load_for_write(uow, scope, watch_point_id, expected_version)
            if changes.name is not None:
                point.rename(changes.name)
            if changes.radius_m is not None:
                point.resize(changes.radius_m)
            if changes.location is not None and changes.location != point.location:
                point.move(changes.location, await self._placement_for(scope, changes.location))
            if point.changes:
                await self._save(uow, point, expected_version, "watch_point.updated")
        return point

    async def deactivate(
        self, scope: Scope, watch_point_id: uuid.UUID, expected_version: int | None = None
    ) -> WatchPoint:
        async with self.uow_factory(scope) as uow:
            point = await self._load_for_write(uow, scope, watch_point_id, expected_version)
            version = point.version
            point.deactivate()
            await self._save(uow, point, version, "watch_point.deactivated")
        return point

    async def _load_for_write(
        self,
        uow: OrganisationUnitOfWork,
        scope: Scope,
        watch_point_id: uuid.UUID,
        expected_version: int | None,
    ) -> WatchPoint:
        _require_staff(scope)
        point = await uow.watch_points.get(watch_point_id)
        if point is None:
            raise WatchPointNotFound()
        self._require_writer(scope, point.station_id)
        if expected_version is not None and point.version != expected_version:
            raise StaleVersion()
        return point

    async def _save(
        self, uow: OrganisationUnitOfWork, point: WatchPoint, expected_version: int, event: str
    ) -> None:
        fields = sorted(point.changes)
        point.updated_at = self.clock.now()
        await uow.watch_points.save(point, expected_version)
        detail = {"code": point.code, "station_id": point.station_id, "fields": fields}
        uow.audit(event, "watch_point", point.id, detail)
        uow.add_event(DomainEvent(event, "watch_point", point.id, self.clock.now(), detail))
        await uow.commit()
        point.changes.clear()


def _writes_at(scope: Scope, station_id: uuid.UUID) -> bool:
    return scope.writes_at(station_id, None)


def _generated_code(placement: Placement) -> str:
    station = placement.station.code if placement.station else "WP"
    return f"{station}-WP{secrets.token_hex(3).upper()}"
