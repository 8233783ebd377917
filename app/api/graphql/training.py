"""GraphQL door of unified training: courses, completions and certificates."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry import relay

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, optional_node_uuid
from app.api.graphql.volunteer_types import CourseNode, TrainingRecordNode
from app.api.pagination import after_id
from app.domain.shared.errors import DomainError
from app.domain.volunteers.errors import CourseNotFound, VolunteerNotFound
from app.domain.volunteers.training_service import CourseInput, TrainingService


@strawberry.type
class TrainingQuery:
    @strawberry.field(description="Courses of your station(s) and of your district.")
    async def courses(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[CourseNode]:
        scope = await info.context.scope()
        page = await info.context.services.get(TrainingService).list_courses(
            scope, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(page.items, CourseNode.of, more=page.next_after is not None)


@strawberry.input
class CreateCourseInput:
    code: str
    title: str
    capability: str | None = None
    validity_months: int | None = None
    station_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A station course; omit for a district-wide course"
    )
    district_id: relay.GlobalID | None = None


@strawberry.type
class CoursePayload:
    course: CourseNode


@strawberry.type
class TrainingPayload:
    training_record: TrainingRecordNode


CourseResult = Annotated[CoursePayload | MutationProblem, strawberry.union("CreateCourseResult")]
TrainingResult = Annotated[
    TrainingPayload | MutationProblem, strawberry.union("RecordTrainingResult")
]


@strawberry.type
class TrainingMutation:
    @strawberry.mutation(description="Create a course of a station or of the district.")
    async def create_course(self, info: Info, input: CreateCourseInput) -> CourseResult:
        scope = await info.context.scope()
        try:
            course = await info.context.services.get(TrainingService).create_course(
                scope,
                CourseInput(
                    code=input.code,
                    title=input.title,
                    capability=input.capability,
                    validity_months=input.validity_months,
                    station_id=optional_node_uuid(input.station_id, "OrgUnit", CourseNotFound),
                    district_id=optional_node_uuid(input.district_id, "OrgUnit", CourseNotFound),
                ),
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return CoursePayload(course=CourseNode.of(course))

    @strawberry.mutation(description="Record that a volunteer completed a course.")
    async def record_training(
        self,
        info: Info,
        volunteer_id: relay.GlobalID,
        course_id: relay.GlobalID,
        completed_on: date,
    ) -> TrainingResult:
        scope = await info.context.scope()
        try:
            certificate = await info.context.services.get(TrainingService).record_training(
                scope,
                node_uuid(volunteer_id, "Volunteer", VolunteerNotFound),
                node_uuid(course_id, "Course", CourseNotFound),
                completed_on,
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return TrainingPayload(training_record=TrainingRecordNode.of(certificate))
