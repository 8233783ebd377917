"""GraphQL door of hazards (隐患): the Hazard node, the work queue, the reporter's list,
the duplicate check, rectification statistics and one mutation per lifecycle step. Same
services and permission checks as REST; only station staff learn who reported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry import relay

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.geo import Crs
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, resolve_scoped
from app.api.pagination import after_id
from app.domain.hazards.errors import HazardNotFound
from app.domain.hazards.model import HazardStatus, Outcome, TopCategory
from app.domain.hazards.ports import StatsLevel
from app.domain.hazards.services import Audience, HazardService, HazardView, NewHazard
from app.domain.shared.errors import DomainError
from app.domain.shared.geo import from_wgs84, to_wgs84

strawberry.enum(TopCategory, name="HazardCategory", description="隐患大类 (pinned codes)")
strawberry.enum(HazardStatus, name="HazardStatus")
strawberry.enum(Outcome, name="HazardOutcome")
strawberry.enum(Audience, name="HazardAudience", description="How much of the hazard you see")
strawberry.enum(StatsLevel, name="HazardStatsLevel")


@strawberry.type
class HazardLocation:
    lon: float
    lat: float
    crs: Crs


@strawberry.type
class HazardHistoryEntry:
    at: datetime
    kind: str
    from_status: HazardStatus | None
    to_status: HazardStatus
    by: UUID | None = strawberry.field(description="Staff only")


@strawberry.type(description="An open hazard of the category nearby (nothing personal).")
class NearbyHazard:
    id: UUID
    category: TopCategory
    status: HazardStatus
    distance_m: int
    photo_id: UUID | None


def _loader(info: Info) -> Any:
    async def fetch(scope: Any, keys: list[UUID]) -> dict[UUID, HazardView]:
        return await info.context.services.get(HazardService).get_many(scope, keys)

    return info.context.scoped_loader("hazards", fetch)


@strawberry.type(name="Hazard", description="隐患 as the caller may see it.")
class HazardNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    audience: Audience
    category: TopCategory
    subcategory_id: UUID | None
    description: str
    place: str | None
    status: HazardStatus
    outcome: Outcome | None
    duplicate_of: UUID | None
    department_id: UUID | None
    deadline: date | None
    overdue_level: int
    rectification_note: str | None
    reported_at: datetime
    verified_at: datetime | None
    rectified_at: datetime | None
    closed_at: datetime | None
    version: int
    view: strawberry.Private[HazardView]

    @classmethod
    def of(cls, v: HazardView) -> HazardNode:
        z = v.hazard
        return cls(
            id=str(z.id),
            uuid=z.id,
            audience=v.audience,
            category=z.category,
            subcategory_id=z.subcategory_id,
            description=z.description,
            place=z.place,
            status=z.status,
            outcome=z.outcome,
            duplicate_of=z.duplicate_of,
            department_id=z.department_id,
            deadline=z.deadline,
            overdue_level=z.escalation,
            rectification_note=z.rectification_note,
            reported_at=z.reported_at,
            verified_at=z.verified_at,
            rectified_at=z.rectified_at,
            closed_at=z.closed_at,
            version=z.version,
            view=v,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[HazardNode | None]:
        return await resolve_scoped(node_ids, _loader(info), cls.of, HazardNotFound, required)

    @strawberry.field
    def location(self, crs: Crs = Crs.WGS84) -> HazardLocation:
        lon, lat = from_wgs84(self.view.hazard.location, crs)
        return HazardLocation(lon=round(lon, 7), lat=round(lat, 7), crs=crs)

    @strawberry.field
    def media_ids(self) -> list[relay.GlobalID]:
        return [relay.GlobalID("Media", str(m)) for m in self.view.hazard.media_ids]

    @strawberry.field
    def after_media_ids(self) -> list[relay.GlobalID]:
        return [relay.GlobalID("Media", str(m)) for m in self.view.hazard.after_media_ids]

    @strawberry.field
    def station_id(self) -> relay.GlobalID | None:
        station = self.view.hazard.routing.station_id
        return relay.GlobalID("OrgUnit", str(station)) if station else None

    @strawberry.field(description="Staff only.")
    def reporter_ids(self) -> list[UUID] | None:
        return self.view.reporters

    @strawberry.field(description="Staff only: hazards merged with this one.")
    def linked_ids(self) -> list[UUID] | None:
        return self.view.linked if self.view.is_staff else None

    @strawberry.field(description="On a report: open hazards of the category nearby.")
    def possible_duplicates(self) -> list[NearbyHazard] | None:
        if not self.view.created:
            return None
        return [
            NearbyHazard(
                id=n.id,
                category=n.category,
                status=n.status,
                distance_m=n.distance_m,
                photo_id=n.photo_id,
            )
            for n in self.view.possible_duplicates
        ]

    @strawberry.field(description="Staff and the responsible party (on single records).")
    def history(self) -> list[HazardHistoryEntry] | None:
        events = self.view.history
        if events is None:
            return None
        staff = self.view.is_staff
        return [
            HazardHistoryEntry(
                at=e.at,
                kind=e.kind.value,
                from_status=e.from_status,
                to_status=e.to_status,
                by=e.by if staff else None,
            )
            for e in events
        ]


@strawberry.type
class HazardStatsRow:
    unit_id: UUID | None
    unit_name: str | None
    verified_real: int
    rectified_closed: int
    rectification_rate: float | None
    median_hours_to_rectify: float | None
    overdue: int
    escalated_to_district: int


@strawberry.input
class HazardLocationInput:
    lon: float
    lat: float
    crs: Crs = Crs.WGS84


@strawberry.input
class HazardFilterInput:
    status: HazardStatus | None = None
    category: TopCategory | None = None
    overdue: bool = False


@strawberry.type
class HazardsQuery:
    @strawberry.field(
        description="The work queue: staff (jurisdiction), departments (assigned to them), "
        "volunteers (awaiting re-inspection in their stations)."
    )
    async def hazards(
        self,
        info: Info,
        filter: HazardFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[HazardNode]:
        scope = await info.context.scope()
        service = info.context.services.get(HazardService)
        f = filter or HazardFilterInput()
        where = service.queue_filter(f.status, f.category, overdue=f.overdue)
        views, more = await service.queue(
            scope, where, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(views, HazardNode.of, more=more)

    @strawberry.field(description="Hazards you reported (or follow after a merge).")
    async def my_hazards(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[HazardNode]:
        scope = await info.context.scope()
        views, more = await info.context.services.get(HazardService).mine(
            scope, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(views, HazardNode.of, more=more)

    @strawberry.field(description="While reporting: open hazards of the category nearby.")
    async def nearby_hazards(
        self,
        info: Info,
        category: TopCategory,
        near: HazardLocationInput,
        subcategory_id: UUID | None = None,
    ) -> list[NearbyHazard]:
        scope = await info.context.scope()
        found = await info.context.services.get(HazardService).nearby(
            scope, category, to_wgs84(near.lon, near.lat, near.crs), subcategory_id
        )
        return [
            NearbyHazard(
                id=n.id,
                category=n.category,
                status=n.status,
                distance_m=n.distance_m,
                photo_id=n.photo_id,
            )
            for n in found
        ]

    @strawberry.field(description="Staff: rectification rate and overdue counts per unit.")
    async def hazard_stats(
        self,
        info: Info,
        level: StatsLevel = StatsLevel.STATION,
        from_date: date | None = None,
        to_date: date | None = None,
    ) -> list[HazardStatsRow]:
        scope = await info.context.scope()
        rows = await info.context.services.get(HazardService).stats(
            scope, level, from_date, to_date
        )
        return [
            HazardStatsRow(
                unit_id=r.unit_id,
                unit_name=r.unit_name,
                verified_real=r.verified_real,
                rectified_closed=r.rectified_closed,
                rectification_rate=r.rectification_rate,
                median_hours_to_rectify=r.median_hours_to_rectify,
                overdue=r.overdue,
                escalated_to_district=r.escalated_to_district,
            )
            for r in rows
        ]


@strawberry.input
class ReportHazardInput:
    id: UUID | None = strawberry.field(default=None, description="Client-generated id")
    category: TopCategory
    subcategory_id: UUID | None = None
    description: str
    location: HazardLocationInput
    place: str | None = None
    media_ids: list[UUID] = strawberry.field(default_factory=list)


@strawberry.type
class HazardPayload:
    hazard: HazardNode
    created: bool = False


HazardResult = Annotated[HazardPayload | MutationProblem, strawberry.union("HazardResult")]


def _hid(gid: relay.GlobalID) -> UUID:
    return node_uuid(gid, "Hazard", HazardNotFound)


async def _run(
    info: Info, act: Callable[[HazardService, Any], Awaitable[HazardView]]
) -> HazardResult:
    scope = await info.context.scope()
    try:
        view = await act(info.context.services.get(HazardService), scope)
    except DomainError as e:
        return problem_of(e, info.context.lang)
    return HazardPayload(hazard=HazardNode.of(view), created=view.created)


@strawberry.type
class HazardsMutation:
    @strawberry.mutation(description="Report a hazard with photos; a retry returns it.")
    async def report_hazard(self, info: Info, input: ReportHazardInput) -> HazardResult:
        async def act(s: HazardService, scope: Any) -> HazardView:
            return await s.report(
                scope,
                NewHazard(
                    category=input.category,
                    description=input.description,
                    location=to_wgs84(input.location.lon, input.location.lat, input.location.crs),
                    media_ids=tuple(input.media_ids),
                    place=input.place,
                    subcategory_id=input.subcategory_id,
                    id=input.id,
                ),
            )

        return await _run(info, act)

    @strawberry.mutation(description="Staff: real / not a hazard / duplicate (duplicateOf).")
    async def verify_hazard(
        self,
        info: Info,
        id: relay.GlobalID,
        outcome: Outcome,
        duplicate_of: UUID | None = None,
        expected_version: int | None = None,
    ) -> HazardResult:
        return await _run(
            info,
            lambda s, scope: s.verify(
                scope,
                _hid(id),
                outcome,
                duplicate_of=duplicate_of,
                expected_version=expected_version,
            ),
        )

    @strawberry.mutation(description="Staff: merge this hazard into another (the survivor).")
    async def merge_hazard(
        self, info: Info, id: relay.GlobalID, into: UUID, expected_version: int | None = None
    ) -> HazardResult:
        return await _run(
            info,
            lambda s, scope: s.merge(scope, _hid(id), into, expected_version=expected_version),
        )

    @strawberry.mutation(description="Staff: assign to a department with a deadline.")
    async def assign_hazard(
        self,
        info: Info,
        id: relay.GlobalID,
        department_id: UUID | None = None,
        deadline: date | None = None,
        assignee_account_id: UUID | None = None,
        expected_version: int | None = None,
    ) -> HazardResult:
        return await _run(
            info,
            lambda s, scope: s.assign(
                scope,
                _hid(id),
                department_id=department_id,
                deadline=deadline,
                assignee_account_id=assignee_account_id,
                expected_version=expected_version,
            ),
        )

    @strawberry.mutation(description="The responsible party: start rectifying.")
    async def start_hazard_rectification(
        self, info: Info, id: relay.GlobalID, expected_version: int | None = None
    ) -> HazardResult:
        return await _run(
            info, lambda s, scope: s.start(scope, _hid(id), expected_version=expected_version)
        )

    @strawberry.mutation(description="The responsible party: fixed, with after-photos.")
    async def rectify_hazard(
        self,
        info: Info,
        id: relay.GlobalID,
        after_media_ids: list[UUID],
        note: str,
        expected_version: int | None = None,
    ) -> HazardResult:
        return await _run(
            info,
            lambda s, scope: s.rectify(
                scope, _hid(id), tuple(after_media_ids), note, expected_version=expected_version
            ),
        )

    @strawberry.mutation(description="Officer or station volunteer: pass closes, fail reopens.")
    async def reinspect_hazard(
        self,
        info: Info,
        id: relay.GlobalID,
        passed: bool,
        note: str | None = None,
        new_deadline: date | None = None,
        expected_version: int | None = None,
    ) -> HazardResult:
        return await _run(
            info,
            lambda s, scope: s.reinspect(
                scope,
                _hid(id),
                passed,
                note,
                new_deadline=new_deadline,
                expected_version=expected_version,
            ),
        )

    @strawberry.mutation(description="A reporter: reopen a closed hazard with evidence.")
    async def reopen_hazard(
        self,
        info: Info,
        id: relay.GlobalID,
        reason: str,
        media_ids: list[UUID],
        expected_version: int | None = None,
    ) -> HazardResult:
        return await _run(
            info,
            lambda s, scope: s.reopen(
                scope, _hid(id), reason, tuple(media_ids), expected_version=expected_version
            ),
        )
