"""Teams (队伍): a brand such as 阳湖N警, a type, a station, a leader and members."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from app.domain.shared.errors import FieldError, InvalidInput, NotAllowed
from app.domain.shared.text import storable
from app.domain.volunteers.errors import TeamConflict
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.lifecycle import SERVING
from app.domain.volunteers.model import Volunteer

MAX_BRAND: Final = 50
MAX_TEAM_NAME: Final = 100


def clean_label(value: str, field: str, limit: int) -> str:
    text = " ".join(value.split())
    if not text or len(text) > limit or not storable(text):
        message = f"{field} must be 1–{limit} characters"
        raise InvalidInput(
            f"The {field} must be 1–{limit} characters.",
            f"{field} 须为1–{limit}个字符。",
            code="team.invalid_input",
            fields=[FieldError(field, "required" if not text else "too_long", message)],
        )
    return text


@dataclass(slots=True)
class Team:
    id: uuid.UUID
    station_id: uuid.UUID
    district_id: uuid.UUID
    brand: str
    name: str
    type: TeamType
    created_at: datetime
    leader_id: uuid.UUID | None = None
    version: int = 1

    def update(
        self, *, brand: str | None = None, name: str | None = None, type: TeamType | None = None
    ) -> None:
        if brand is not None:
            self.brand = clean_label(brand, "brand", MAX_BRAND)
        if name is not None:
            self.name = clean_label(name, "name", MAX_TEAM_NAME)
        if type is not None:
            self.type = type

    def check_can_join(self, volunteer: Volunteer, already_member: bool) -> None:
        """Only serving (probation or active) volunteers of the team's station join."""
        if volunteer.station_id != self.station_id:
            raise NotAllowed(
                "Only volunteers of the team's station can join it.",
                "只有本派出所的志愿者可以加入该队伍。",
                code="team.other_station",
            )
        if volunteer.status not in SERVING:
            raise TeamConflict(
                f"A '{volunteer.status}' volunteer cannot join a team.",
                f"状态为“{volunteer.status}”的志愿者不能加入队伍。",
                code="team.volunteer_not_serving",
            )
        if already_member:
            raise TeamConflict(
                "The volunteer is already a member of this team.",
                "该志愿者已是本队队员。",
                code="team.already_member",
            )

    def set_leader(self, volunteer: Volunteer, is_member: bool) -> uuid.UUID | None:
        """Make a current, serving member the leader (队长); returns the previous leader."""
        if not is_member:
            raise TeamConflict(
                "The leader must be a current member of the team.",
                "队长必须是本队现有队员。",
                code="team.leader_not_member",
            )
        if volunteer.status not in SERVING:
            raise TeamConflict(
                f"A '{volunteer.status}' volunteer cannot lead a team.",
                f"状态为“{volunteer.status}”的志愿者不能担任队长。",
                code="team.volunteer_not_serving",
            )
        previous = self.leader_id
        self.leader_id = volunteer.id
        return previous

    def member_left(self, volunteer_id: uuid.UUID) -> bool:
        """A leader who leaves stops leading; returns whether they were the leader."""
        if self.leader_id == volunteer_id:
            self.leader_id = None
            return True
        return False


def new_team(
    *,
    team_id: uuid.UUID,
    station_id: uuid.UUID,
    district_id: uuid.UUID,
    brand: str,
    name: str,
    type: TeamType,
    at: datetime,
) -> Team:
    return Team(
        id=team_id,
        station_id=station_id,
        district_id=district_id,
        brand=clean_label(brand, "brand", MAX_BRAND),
        name=clean_label(name, "name", MAX_TEAM_NAME),
        type=type,
        created_at=at,
    )


@dataclass(frozen=True, slots=True)
class Membership:
    id: uuid.UUID
    team_id: uuid.UUID
    volunteer_id: uuid.UUID
    joined_at: datetime
    left_at: datetime | None = None
    added_by: uuid.UUID | None = None
    removed_by: uuid.UUID | None = None
