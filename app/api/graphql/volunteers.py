"""GraphQL door of the volunteer archive: volunteers, re-checks, badge check, me; and the
recruitment and lifecycle mutations. Same services and permission checks as REST."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.identity import Account
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, optional_node_uuid
from app.api.graphql.volunteer_types import BackgroundCheckType, Badge, VolunteerNode
from app.api.pagination import after_id, due_after, due_cursor
from app.api.volunteer_forms import person_form, profile_changes, station_or_default
from app.domain.identity.services import AccountService
from app.domain.shared.clock import local_date
from app.domain.shared.errors import DomainError, FieldError
from app.domain.shared.errors import InvalidInput as InvalidInputError
from app.domain.shared.scope import Scope
from app.domain.volunteers.badge import BadgeService
from app.domain.volunteers.errors import BadgeNotFound, TeamNotFound, VolunteerNotFound
from app.domain.volunteers.glossary import PreferredRole, SourceCategory
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import CheckResult
from app.domain.volunteers.ports import VolunteerFilter
from app.domain.volunteers.recruitment import ConsentInput, PersonForm
from app.domain.volunteers.services import CheckInput, VolunteerService
from app.domain.volunteers.views import VolunteerView


@strawberry.input
class VolunteerFilterInput:
    status: VolunteerStatus | None = None
    team_id: relay.GlobalID | None = None
    station_id: relay.GlobalID | None = None
    source_category: SourceCategory | None = None
    q: str | None = strawberry.field(default=None, description="Name prefix")
    phone: str | None = strawberry.field(default=None, description="Exact phone number")
    resident_id: str | None = strawberry.field(default=None, description="Exact ID number")


def _filter(f: VolunteerFilterInput | None, today: date) -> VolunteerFilter:
    if f is None:
        return VolunteerFilter()
    return VolunteerFilter.typed(
        today=today,
        q=f.q,
        phone=f.phone,
        resident_id=f.resident_id,
        status=f.status,
        team_id=optional_node_uuid(f.team_id, "Team", TeamNotFound),
        station_id=_unit(f.station_id, "stationId"),
        source_category=f.source_category,
    )


@strawberry.type(description="The signed-in caller: account and own volunteer record.")
class Me:
    account: Account
    volunteer: VolunteerNode | None = strawberry.field(
        description="Your own latest volunteer record in full (null if none)"
    )


@strawberry.type
class VolunteersQuery:
    @strawberry.field(description="Volunteers in your scope, newest first.")
    async def volunteers(
        self,
        info: Info,
        filter: VolunteerFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[VolunteerNode]:
        scope = await info.context.scope()
        service = info.context.services.get(VolunteerService)
        flt = _filter(filter, local_date(service.clock.now()))
        page = await service.search(scope, flt, limit=first_of(first), after=after_id(after))
        return keyset_connection(page.items, VolunteerNode.of, more=page.next_after is not None)

    @strawberry.field(
        description="One volunteer in detail: full personal data for the station's staff "
        "(audited) and the person themself; null when not in your scope."
    )
    async def volunteer(self, info: Info, id: relay.GlobalID) -> VolunteerNode | None:
        scope = await info.context.scope()
        try:
            vid = node_uuid(id, "Volunteer", VolunteerNotFound)
            view = await info.context.services.get(VolunteerService).get(scope, vid)
        except VolunteerNotFound:
            return None
        return VolunteerNode.of(view)

    @strawberry.field(description="Volunteers whose background re-check is due by `before`.")
    async def rechecks_due(
        self, info: Info, before: date, first: int = 50, after: str | None = None
    ) -> relay.Connection[VolunteerNode]:
        scope = await info.context.scope()
        service = info.context.services.get(VolunteerService)
        page = await service.rechecks_due(
            scope, before, limit=first_of(first), after=due_after(after)
        )
        return keyset_connection(
            page.items,
            VolunteerNode.of,
            more=page.next_after is not None,
            cursor=lambda v: due_cursor(v.next_recheck_on, v.id),
        )

    @strawberry.field(description="Public badge check (no sign-in); null for unknown codes.")
    async def badge(self, info: Info, token: str) -> Badge | None:
        try:
            return Badge.of(await info.context.services.get(BadgeService).check(token))
        except BadgeNotFound:
            return None

    @strawberry.field(description="The caller's account and own volunteer record.")
    async def me(self, info: Info) -> Me:
        scope = await info.context.scope()
        account = await info.context.services.get(AccountService).get_account(scope)
        profile = await info.context.services.get(VolunteerService).my_profile(scope)
        return Me(
            account=Account.of(account),
            volunteer=VolunteerNode.of(profile.volunteer) if profile else None,
        )


@strawberry.input(name="ConsentInput", description="Consent to the privacy notice version")
class ConsentInputType:
    notice_version: str
    accepted: bool


@strawberry.input
class VolunteerInput:
    name: str
    phone: str
    resident_id: str
    address: str
    source_category: SourceCategory
    station_id: relay.GlobalID | None = None
    community_id: relay.GlobalID | None = None
    skills: list[str] = strawberry.field(default_factory=list)
    preferred_roles: list[PreferredRole] = strawberry.field(default_factory=list)
    consent: ConsentInputType | None = None


@strawberry.input
class UpdateVolunteerInput:
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    skills: list[str] | None = None
    preferred_roles: list[PreferredRole] | None = None
    has_photo: bool | None = None
    source_category: SourceCategory | None = None
    community_id: relay.GlobalID | None = None


@strawberry.input
class BackgroundCheckInput:
    volunteer_id: relay.GlobalID
    result: CheckResult
    checked_on: date | None = None
    note: str | None = None
    next_recheck_on: date | None = None


@strawberry.type
class VolunteerPayload:
    volunteer: VolunteerNode


@strawberry.type
class BackgroundCheckPayload:
    check: BackgroundCheckType
    volunteer: VolunteerNode


VolunteerResult = Annotated[VolunteerPayload | MutationProblem, strawberry.union("VolunteerResult")]
BackgroundCheckResultUnion = Annotated[
    BackgroundCheckPayload | MutationProblem, strawberry.union("RecordBackgroundCheckResult")
]


def _bad_unit(field: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field} is not the id of an organisation unit.",
        f"{field} 不是有效的组织单位标识。",
        code="graphql.invalid_id",
        fields=[FieldError(field, "invalid_id", "not an OrgUnit id")],
    )


def _unit(gid: relay.GlobalID | None, field: str) -> UUID | None:
    return optional_node_uuid(gid, "OrgUnit", lambda: _bad_unit(field))


def _form(input: VolunteerInput, scope: Scope) -> PersonForm:
    given = _unit(input.station_id, "stationId")
    station = station_or_default(scope, given, lambda: _bad_unit("stationId"))
    return person_form(input, station, _unit(input.community_id, "communityId"))


def _consent(input: VolunteerInput) -> ConsentInput | None:
    c = input.consent
    return ConsentInput(c.notice_version, c.accepted) if c else None


Enrolment = Callable[[Scope, PersonForm, ConsentInput | None], Awaitable[VolunteerView]]


async def _enrol(info: Info, input: VolunteerInput, enrol: Enrolment) -> VolunteerResult:
    """Apply or register a person: the new record, or a typed problem."""
    scope = await info.context.scope()
    try:
        view = await enrol(scope, _form(input, scope), _consent(input))
    except DomainError as e:
        return problem_of(e, info.context.lang)
    return VolunteerPayload(volunteer=VolunteerNode.of(view))


@strawberry.type
class VolunteersMutation:
    @strawberry.mutation(description="Apply to become a volunteer (signed-in resident).")
    async def apply_as_volunteer(self, info: Info, input: VolunteerInput) -> VolunteerResult:
        return await _enrol(info, input, info.context.services.get(VolunteerService).apply)

    @strawberry.mutation(description="Register a person as an applicant of your station.")
    async def register_volunteer(self, info: Info, input: VolunteerInput) -> VolunteerResult:
        return await _enrol(info, input, info.context.services.get(VolunteerService).register)

    @strawberry.mutation(description="Record a background check or re-check and its outcome.")
    async def record_background_check(
        self, info: Info, input: BackgroundCheckInput
    ) -> BackgroundCheckResultUnion:
        scope = await info.context.scope()
        try:
            vid = node_uuid(input.volunteer_id, "Volunteer", VolunteerNotFound)
            view, check = await info.context.services.get(VolunteerService).record_background_check(
                scope,
                vid,
                CheckInput(input.result, input.checked_on, input.note, input.next_recheck_on),
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return BackgroundCheckPayload(
            check=BackgroundCheckType.of(check), volunteer=VolunteerNode.of(view)
        )

    @strawberry.mutation(description="Move a volunteer through the lifecycle.")
    async def change_volunteer_status(
        self,
        info: Info,
        id: relay.GlobalID,
        to: VolunteerStatus,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> VolunteerResult:
        scope = await info.context.scope()
        try:
            vid = node_uuid(id, "Volunteer", VolunteerNotFound)
            view = await info.context.services.get(VolunteerService).change_status(
                scope, vid, to, reason=reason, expected_version=expected_version
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return VolunteerPayload(volunteer=VolunteerNode.of(view))

    @strawberry.mutation(description="Edit profile fields (optimistic: expectedVersion).")
    async def update_volunteer(
        self, info: Info, id: relay.GlobalID, input: UpdateVolunteerInput, expected_version: int
    ) -> VolunteerResult:
        scope = await info.context.scope()
        try:
            vid = node_uuid(id, "Volunteer", VolunteerNotFound)
            changes = profile_changes(input, _unit(input.community_id, "communityId"))
            view = await info.context.services.get(VolunteerService).update_profile(
                scope, vid, changes, expected_version=expected_version
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return VolunteerPayload(volunteer=VolunteerNode.of(view))
