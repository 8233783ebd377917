"""Demo volunteers, teams and training, driven through the volunteers use cases so each
demo person really walked their lifecycle (history, checks, numbers, badges)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from app.api.container import Services
from app.bootstrap import demo_data as data
from app.domain.shared.clock import Clock, local_date
from app.domain.shared.scope import Scope
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.lifecycle import VolunteerStatus as S
from app.domain.volunteers.model import CheckResult, Origin
from app.domain.volunteers.ports import TeamFilter, VolunteerFilter
from app.domain.volunteers.recruitment import PersonForm
from app.domain.volunteers.services import CheckInput, VolunteerService
from app.domain.volunteers.team_service import TeamInput, TeamService
from app.domain.volunteers.training_service import CourseInput, TrainingService

if TYPE_CHECKING:
    from app.bootstrap.demo import SeedSummary

# How each target state is reached from "applied" (background checks are handled apart).
PATHS: dict[str, list[S]] = {
    "applied": [],
    "vetted": [],
    "rejected": [],
    "training": [S.TRAINING],
    "probation": [S.TRAINING, S.PROBATION],
    "active": [S.TRAINING, S.PROBATION, S.ACTIVE],
    "suspended": [S.TRAINING, S.PROBATION, S.ACTIVE, S.SUSPENDED],
    "retired": [S.TRAINING, S.PROBATION, S.ACTIVE, S.RETIRED],
    "expelled": [S.TRAINING, S.PROBATION, S.ACTIVE, S.EXPELLED],
}
REASONS = {
    S.SUSPENDED: "演示：长期未参加活动，暂停服务",
    S.RETIRED: "演示：本人申请退出",
    S.EXPELLED: "演示：违反队伍纪律",
}


async def seed_volunteers(services: Services, scope: Scope, summary: SeedSummary) -> None:
    volunteers = services.get(VolunteerService)
    today = local_date(services.get_any(Clock).now())
    stations: dict[str, uuid.UUID] = {}
    for suffix, *_ in data.STATIONS:
        ref = await volunteers.station_by_code(scope, data.station_code(suffix))
        assert ref is not None, "demo stations are imported first"
        stations[suffix] = ref.id

    by_index: dict[int, uuid.UUID] = {}
    for person in data.volunteers():
        found = await volunteers.search(
            scope, VolunteerFilter(resident_id=person.resident_id), limit=1
        )
        if found.items:
            by_index[person.index] = found.items[0].id
            summary.add("volunteers", False)
            continue
        view = await volunteers.register(
            scope,
            PersonForm(
                name=person.name,
                phone=person.phone,
                resident_id=person.resident_id,
                address=person.address,
                station_id=stations[person.station_suffix],
                source_category=person.source_category,
                skills=person.skills,
                preferred_roles=person.roles,
            ),
            origin=Origin.IMPORT,
        )
        by_index[person.index] = view.id
        if person.target_state != "applied":
            passed = person.target_state != "rejected"
            await volunteers.record_background_check(
                scope,
                view.id,
                CheckInput(
                    result=CheckResult.PASSED if passed else CheckResult.FAILED,
                    note="演示背景审查" if passed else "演示：审查未通过",
                    # A few are due for their periodic re-check soon.
                    next_recheck_on=today + timedelta(days=20 if person.index % 5 == 0 else 365)
                    if passed
                    else None,
                ),
            )
        for step in PATHS[person.target_state]:
            await volunteers.change_status(scope, view.id, step, reason=REASONS.get(step))
        summary.add("volunteers", True)

    await _seed_teams(services, scope, summary, stations, by_index)
    await _seed_training(services, scope, summary, stations, by_index)


async def _seed_teams(
    services: Services,
    scope: Scope,
    summary: SeedSummary,
    stations: dict[str, uuid.UUID],
    by_index: dict[int, uuid.UUID],
) -> None:
    teams = services.get(TeamService)
    people = data.volunteers()
    for suffix, brand, name, kind in data.TEAMS:
        station_id = stations[suffix]
        existing = await teams.search(
            scope, TeamFilter(station_id=station_id, brand=brand), limit=50
        )
        if any(t.name == name for t in existing.items):
            summary.add("teams", False)
            continue
        team = await teams.create(scope, TeamInput(brand, name, TeamType(kind), station_id))
        members = [
            by_index[p.index]
            for p in people
            if p.station_suffix == suffix and p.target_state in ("active", "probation")
        ][:6]
        for vid in members:
            await teams.add_member(scope, team.id, vid)
        if members:
            await teams.set_leader(scope, team.id, members[0])
        summary.add("teams", True)


async def _seed_training(
    services: Services,
    scope: Scope,
    summary: SeedSummary,
    stations: dict[str, uuid.UUID],
    by_index: dict[int, uuid.UUID],
) -> None:
    training = services.get(TrainingService)
    today = local_date(services.get_any(Clock).now())
    courses = [
        CourseInput(
            "JWLM-FA-01",
            "警物联盟大学堂·应急救护（急救）",
            "first_aid",
            24,
            station_id=stations["HT"],
        ),
        CourseInput(
            "JWLM-FIRE-01",
            "警物联盟大学堂·消防安全与初起火灾扑救",
            "fire",
            12,
            station_id=stations["HT"],
        ),
        CourseInput("JWLM-AF-01", "反诈宣防基础", None, None, station_id=stations["XC"]),
    ]
    from app.domain.volunteers.errors import CourseCodeTaken

    created = []
    for course in courses:
        try:
            created.append(await training.create_course(scope, course))
            summary.add("courses", True)
        except CourseCodeTaken:
            summary.add("courses", False)
    if not created:
        return
    first_aid = next((c for c in created if c.code == "JWLM-FA-01"), None)
    if first_aid is None:
        return
    for person in data.volunteers():
        if person.station_suffix == "HT" and person.target_state in ("active", "probation"):
            # Some certificates are old enough to have expired.
            done = today - timedelta(days=800 if person.index % 4 == 0 else 90)
            await training.record_training(scope, by_index[person.index], first_aid.id, done)
            summary.add("training records", True)
