"""GraphQL types of the volunteers context (Volunteer, Team, Course, TrainingRecord,
Badge) and their per-request DataLoaders, which load through the scoped services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app.api.graphql.context import Info
from app.api.graphql.relay import resolve_scoped
from app.domain.shared.errors import NotFound
from app.domain.shared.scope import Scope
from app.domain.volunteers.badge import BadgeView
from app.domain.volunteers.errors import (
    CourseNotFound,
    TeamNotFound,
    VolunteerNotFound,
)
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
from app.domain.volunteers.services import VolunteerService
from app.domain.volunteers.team_service import TeamService
from app.domain.volunteers.teams import Team
from app.domain.volunteers.training import Certificate, Course
from app.domain.volunteers.training_service import TrainingService
from app.domain.volunteers.views import MemberView, VolunteerView

strawberry.enum(VolunteerStatus, name="VolunteerStatus", description="Volunteer lifecycle")
strawberry.enum(SourceCategory, name="SourceCategory", description="来源类别")
strawberry.enum(PreferredRole, name="PreferredRole", description="治安员/信息员/调解员/宣传员")
strawberry.enum(TeamType, name="TeamType", description="队伍类型")
strawberry.enum(CheckResult, name="BackgroundCheckResult")
strawberry.enum(Origin, name="VolunteerOrigin", description="How the record was created")


# --- helpers -------------------------------------------------------------------------------


def org_unit_gid(unit_id: UUID | None) -> relay.GlobalID | None:
    return relay.GlobalID("OrgUnit", str(unit_id)) if unit_id else None


def _training_not_found() -> NotFound:
    return NotFound(code="training.not_found")


async def _scope(info: Info) -> Scope:
    return await info.context.scope()


# --- DataLoaders (one per request; each batch is one scoped query) -------------------------


def volunteer_loader(info: Info) -> DataLoader[UUID, VolunteerView | None]:
    service = info.context.services.get(VolunteerService)

    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, VolunteerView]:
        return {v.id: v for v in await service.get_many(scope, keys)}

    return info.context.scoped_loader("volunteers.by_id", fetch)


def teams_of_volunteer_loader(info: Info) -> DataLoader[UUID, list[Team]]:
    service = info.context.services.get(TeamService)
    return info.context.scoped_lists_loader("volunteers.teams", service.teams_of)


def team_loader(info: Info) -> DataLoader[UUID, Team | None]:
    service = info.context.services.get(TeamService)

    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, Team]:
        return {t.id: t for t in await service.get_many(scope, keys)}

    return info.context.scoped_loader("teams.by_id", fetch)


def members_loader(info: Info) -> DataLoader[UUID, list[MemberView]]:
    service = info.context.services.get(TeamService)
    return info.context.scoped_lists_loader("teams.members", service.members_of)


def certificates_loader(info: Info) -> DataLoader[UUID, list[Certificate]]:
    service = info.context.services.get(TrainingService)
    return info.context.scoped_lists_loader("volunteers.certificates", service.certificates_of)


def course_loader(info: Info) -> DataLoader[UUID, Course | None]:
    service = info.context.services.get(TrainingService)

    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, Course]:
        return {c.id: c for c in await service.get_courses(scope, keys)}

    return info.context.scoped_loader("training.courses", fetch)


def training_loader(info: Info) -> DataLoader[UUID, Certificate | None]:
    service = info.context.services.get(TrainingService)

    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, Certificate]:
        return {c.record.id: c for c in await service.trainings_by_ids(scope, keys)}

    return info.context.scoped_loader("training.records", fetch)


# --- types ---------------------------------------------------------------------------------


@strawberry.type(description="A status change of a volunteer.")
class VolunteerStatusChange:
    from_status: VolunteerStatus | None
    to_status: VolunteerStatus
    reason: str | None
    by_account_uuid: UUID
    at: datetime

    @classmethod
    def of(cls, c: StatusChange) -> VolunteerStatusChange:
        return cls(
            from_status=c.from_status,
            to_status=c.to_status,
            reason=c.reason,
            by_account_uuid=c.by,
            at=c.at,
        )


@strawberry.type(name="BackgroundCheck", description="背景审查: a (re-)check and its outcome.")
class BackgroundCheckType:
    uuid: UUID
    checked_by: UUID
    checked_on: date
    result: CheckResult
    note: str | None
    next_recheck_on: date | None
    recorded_at: datetime

    @classmethod
    def of(cls, c: BackgroundCheck) -> BackgroundCheckType:
        return cls(
            uuid=c.id,
            checked_by=c.checked_by,
            checked_on=c.checked_on,
            result=c.result,
            note=c.note,
            next_recheck_on=c.next_recheck_on,
            recorded_at=c.recorded_at,
        )


@strawberry.type(
    name="Volunteer",
    description=(
        "A volunteer in your scope. Phone, ID number and address are masked except for the "
        "person themself (and, via `volunteer(id:)`, their station's staff, audited)."
    ),
)
class VolunteerNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    name: str
    phone: str
    resident_id: str
    address: str
    full_personal_data: bool
    source_category: SourceCategory
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
    created_at: datetime
    version: int
    view: strawberry.Private[VolunteerView]

    @classmethod
    def of(cls, v: VolunteerView) -> VolunteerNode:
        return cls(
            id=str(v.id),
            uuid=v.id,
            name=v.name,
            phone=v.phone,
            resident_id=v.resident_id,
            address=v.address,
            full_personal_data=v.full_personal_data,
            source_category=v.source_category,
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
            created_at=v.created_at,
            version=v.version,
            view=v,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[VolunteerNode | None]:
        return await resolve_scoped(
            node_ids, volunteer_loader(info), cls.of, VolunteerNotFound, required
        )

    @strawberry.field
    def source_category_label(self) -> str:
        return SOURCE_CATEGORY_LABELS[self.source_category]

    @strawberry.field
    def preferred_role_labels(self) -> list[str]:
        return [PREFERRED_ROLE_LABELS[r] for r in self.preferred_roles]

    @strawberry.field(description="Global id of the station (an OrgUnit).")
    def station_id(self) -> relay.GlobalID:
        return relay.GlobalID("OrgUnit", str(self.view.station_id))

    @strawberry.field
    def community_id(self) -> relay.GlobalID | None:
        return org_unit_gid(self.view.community_id)

    @strawberry.field(description="Current teams (in your scope).")
    async def teams(self, info: Info) -> list[TeamNode]:
        return [TeamNode.of(t) for t in await teams_of_volunteer_loader(info).load(self.uuid)]

    @strawberry.field(description="Completed courses, newest first.")
    async def trainings(self, info: Info) -> list[TrainingRecordNode]:
        certificates = await certificates_loader(info).load(self.uuid)
        return [TrainingRecordNode.of(c) for c in certificates]

    @strawberry.field(description="Every status change, oldest first.")
    async def history(self, info: Info) -> list[VolunteerStatusChange]:
        service = info.context.services.get(VolunteerService)
        changes = await service.history(await _scope(info), self.uuid)
        return [VolunteerStatusChange.of(c) for c in changes]


@strawberry.type(description="A current member of a team.")
class TeamMember:
    name: str = strawberry.field(description="Full for the station's staff, else masked")
    volunteer_number: str | None
    status: VolunteerStatus
    joined_at: datetime
    is_leader: bool
    volunteer_uuid: strawberry.Private[UUID]

    @classmethod
    def of(cls, m: MemberView) -> TeamMember:
        return cls(
            name=m.name,
            volunteer_number=m.volunteer_number,
            status=m.status,
            joined_at=m.joined_at,
            is_leader=m.is_leader,
            volunteer_uuid=m.volunteer_id,
        )

    @strawberry.field
    async def volunteer(self, info: Info) -> VolunteerNode | None:
        view = await volunteer_loader(info).load(self.volunteer_uuid)
        return VolunteerNode.of(view) if view else None


@strawberry.type(name="Team", description="A volunteer team (阳湖N警, 彭城义警, 江东大妈...).")
class TeamNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    brand: str
    name: str
    type: TeamType
    version: int
    created_at: datetime
    team: strawberry.Private[Team]

    @classmethod
    def of(cls, t: Team) -> TeamNode:
        return cls(
            id=str(t.id),
            uuid=t.id,
            brand=t.brand,
            name=t.name,
            type=t.type,
            version=t.version,
            created_at=t.created_at,
            team=t,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TeamNode | None]:
        return await resolve_scoped(node_ids, team_loader(info), cls.of, TeamNotFound, required)

    @strawberry.field
    def type_label(self) -> str:
        return TEAM_TYPE_LABELS[self.type]

    @strawberry.field
    def station_id(self) -> relay.GlobalID:
        return relay.GlobalID("OrgUnit", str(self.team.station_id))

    @strawberry.field
    async def leader(self, info: Info) -> VolunteerNode | None:
        if self.team.leader_id is None:
            return None
        view = await volunteer_loader(info).load(self.team.leader_id)
        return VolunteerNode.of(view) if view else None

    @strawberry.field(description="Current members the caller may see.")
    async def members(self, info: Info) -> list[TeamMember]:
        return [TeamMember.of(m) for m in await members_loader(info).load(self.uuid)]


@strawberry.type(name="Course", description="A training course (警物联盟大学堂...).")
class CourseNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    code: str
    title: str
    capability: str | None
    validity_months: int | None
    created_at: datetime
    course: strawberry.Private[Course]

    @classmethod
    def of(cls, c: Course) -> CourseNode:
        return cls(
            id=str(c.id),
            uuid=c.id,
            code=c.code,
            title=c.title,
            capability=c.capability,
            validity_months=c.validity_months,
            created_at=c.created_at,
            course=c,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CourseNode | None]:
        return await resolve_scoped(node_ids, course_loader(info), cls.of, CourseNotFound, required)

    @strawberry.field
    def district_id(self) -> relay.GlobalID:
        return relay.GlobalID("OrgUnit", str(self.course.district_id))

    @strawberry.field(description="Null for a district-wide course.")
    def station_id(self) -> relay.GlobalID | None:
        return org_unit_gid(self.course.station_id)


@strawberry.type(name="TrainingRecord", description="A completed course and its certificate.")
class TrainingRecordNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    completed_on: date
    certificate_expires_on: date | None = strawberry.field(
        description="First day the certificate is no longer valid (null: never expires)"
    )
    recorded_by: UUID
    recorded_at: datetime
    certificate: strawberry.Private[Certificate]

    @classmethod
    def of(cls, c: Certificate) -> TrainingRecordNode:
        r = c.record
        return cls(
            id=str(r.id),
            uuid=r.id,
            completed_on=r.completed_on,
            certificate_expires_on=r.certificate_expires_on,
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
            certificate=c,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TrainingRecordNode | None]:
        return await resolve_scoped(
            node_ids, training_loader(info), cls.of, _training_not_found, required
        )

    @strawberry.field
    def course(self) -> CourseNode:
        return CourseNode.of(self.certificate.course)

    @strawberry.field
    async def volunteer(self, info: Info) -> VolunteerNode | None:
        view = await volunteer_loader(info).load(self.certificate.record.volunteer_id)
        return VolunteerNode.of(view) if view else None

    @strawberry.field(description="Whether the certificate is valid on the given day.")
    def valid_on(self, day: date) -> bool:
        return self.certificate.record.valid_on(day)


@strawberry.type
class BadgeTeam:
    brand: str
    name: str


@strawberry.type(description="What a public badge check shows: nothing identifying.")
class Badge:
    masked_name: str
    has_photo: bool
    volunteer_number: str
    active: bool
    valid_until: date | None
    teams: list[BadgeTeam]

    @classmethod
    def of(cls, b: BadgeView) -> Badge:
        return cls(
            masked_name=b.masked_name,
            has_photo=b.has_photo,
            volunteer_number=b.volunteer_number,
            active=b.active,
            valid_until=b.valid_until,
            teams=[BadgeTeam(brand=t.brand, name=t.name) for t in b.teams],
        )
