"""Demo data of the emergency story (issue 5): the 湖塘 station's team 湖塘最小应急单元
becomes an emergency unit (最小应急单元) with a base near the 湖塘农贸市场 watch point, an
AED and an extinguisher; two demo responders who can sign in (王芳, 陈磊) join it.

The responders walk the real path: a WeChat sign-in through the development adapter
(the same login code is always the same account), an application as that account, the
background check and activation by the station, team membership, a first-aid course and
their own claim of the first-aid capability. Idempotent: each step looks first and does
only what is missing, so a second run signs nobody in and creates nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.table import Table

from app.api.container import Services
from app.bootstrap import demo_data as data
from app.domain.emergency.errors import UnitExists
from app.domain.emergency.glossary import Capability, EquipmentKind
from app.domain.emergency.model import EmergencyUnit
from app.domain.emergency.services import EmergencyUnitService, NewEquipment, NewUnit
from app.domain.identity.model import ClientInfo
from app.domain.identity.signin import SignInService
from app.domain.shared.auth import Authenticator
from app.domain.shared.clock import Clock, local_date
from app.domain.shared.geo import GeoPoint
from app.domain.shared.personal_data import resident_id_check_char
from app.domain.shared.scope import Scope
from app.domain.volunteers.lifecycle import VolunteerStatus as S
from app.domain.volunteers.model import CheckResult
from app.domain.volunteers.ports import TeamFilter, VolunteerFilter
from app.domain.volunteers.recruitment import ConsentInput, PersonForm
from app.domain.volunteers.services import CheckInput, VolunteerService
from app.domain.volunteers.team_service import TeamService
from app.domain.volunteers.training_service import TrainingService
from app.domain.volunteers.views import VolunteerView

if TYPE_CHECKING:
    from app.bootstrap.demo import SeedSummary

UNIT_STATION: Final = "HT"
UNIT_BRAND: Final = "阳湖N警"
UNIT_TEAM: Final = "湖塘最小应急单元"
# The unit's base (驻点): by the 湖塘农贸市场 watch point (WP-HT-003), inside 湖塘派出所.
BASE: Final = (119.9310, 31.7150)
OFFERS: Final = (Capability.FIRST_AID, Capability.FIRE, Capability.CROWD_CONTROL)
# (kind, label, metres east of the base): the AED at the base, the extinguisher nearby.
EQUIPMENT: Final = (
    (EquipmentKind.AED, "自动体外除颤器·湖塘农贸市场值守点", 0.0),
    (EquipmentKind.EXTINGUISHER, "灭火器·农贸市场东门", 60.0),
)
FIRST_AID_COURSE: Final = "JWLM-FA-01"
SIGN_IN_CLIENT: Final = ClientInfo(ip="127.0.0.1", request_id="seed-demo", user_agent="seed-demo")


@dataclass(frozen=True, slots=True)
class DemoResponder:
    """A synthetic member of the demo unit who signs in with a WeChat login code."""

    wechat_code: str
    name: str
    phone: str
    born: str  # YYYYMMDD
    serial: str  # three digits of the synthetic resident ID
    address: str

    @property
    def resident_id(self) -> str:
        body = f"{data.DISTRICT_CODE}{self.born}{self.serial}"
        return body + resident_id_check_char(body)


RESPONDERS: Final = (
    DemoResponder(
        "demo-wangfang",
        "王芳",
        "13905190801",
        "19880315",
        "801",
        "江苏省常州市武进区湖塘镇农贸市场东苑3幢201室",
    ),
    DemoResponder(
        "demo-chenlei",
        "陈磊",
        "13905190802",
        "19920809",
        "802",
        "江苏省常州市武进区湖塘镇农贸市场东苑5幢502室",
    ),
)


def print_responders(console: Console) -> None:
    """How to sign in as the demo unit's two responders (for the seed summary)."""
    table = Table(
        "name",
        "sign in",
        "phone",
        title=f"Demo emergency unit {UNIT_TEAM} (湖塘派出所): responders",
    )
    for person in RESPONDERS:
        table.add_row(
            person.name,
            f'POST /api/v1/auth/wechat {{"code": "{person.wechat_code}"}}',
            person.phone,
        )
    console.print(table)
    console.print(
        "The emergency story (make worker alongside the server): "
        "uv run --frozen python scripts/demo_emergency.py"
    )


def metres_east(point: tuple[float, float], metres: float) -> GeoPoint:
    """A point ``metres`` east of ``point`` (about 94.7 km per degree at 31.7°N)."""
    return GeoPoint(point[0] + metres / 94_700, point[1])


async def seed_emergency(services: Services, scope: Scope, summary: SeedSummary) -> None:
    volunteers = services.get(VolunteerService)
    station = await volunteers.station_by_code(scope, data.station_code(UNIT_STATION))
    assert station is not None, "demo stations are imported first"
    teams = services.get(TeamService)
    found = await teams.search(scope, TeamFilter(station_id=station.id, brand=UNIT_BRAND), limit=50)
    team = next((t for t in found.items if t.name == UNIT_TEAM), None)
    assert team is not None, "demo teams are seeded first"
    unit = await _unit(services, scope, team.id, summary)
    for person in RESPONDERS:
        await _responder(services, scope, station.id, unit, person, summary)


async def _unit(
    services: Services, scope: Scope, team_id: uuid.UUID, summary: SeedSummary
) -> EmergencyUnit:
    units = services.get(EmergencyUnitService)
    try:
        unit = await units.create_unit(scope, NewUnit(team_id, GeoPoint(*BASE), OFFERS))
        summary.add("emergency units", True)
    except UnitExists:
        unit = await units.get_unit(scope, team_id)
        summary.add("emergency units", False)
    held = {item.kind for item in unit.equipment}
    for kind, label, east in EQUIPMENT:
        if kind in held:
            summary.add("emergency equipment", False)
            continue
        unit, _ = await units.add_equipment(
            scope, unit.id, NewEquipment(kind, metres_east(BASE, east), label=label)
        )
        summary.add("emergency equipment", True)
    return unit


class _Account:
    """The responder's own scope, signed in only when a step needs it (a second seed run
    needs none, so it starts no session); one sign-in per run at most."""

    def __init__(self, services: Services, code: str) -> None:
        self.services = services
        self.code = code
        self.token: str | None = None

    async def __call__(self) -> Scope:
        """The account's scope as a request would see it now (roles change on activation
        and team membership, so it is read again each time)."""
        if self.token is None:
            pair = await self.services.get(SignInService).sign_in_with_wechat(
                self.code, SIGN_IN_CLIENT
            )
            self.token = pair.access_token
        authenticator: Authenticator = self.services.get_any(Authenticator)
        return await authenticator.authenticate(self.token, request_id="seed-demo")


async def _responder(
    services: Services,
    scope: Scope,
    station_id: uuid.UUID,
    unit: EmergencyUnit,
    person: DemoResponder,
    summary: SeedSummary,
) -> None:
    volunteers = services.get(VolunteerService)
    account = _Account(services, person.wechat_code)
    found = await volunteers.search(scope, VolunteerFilter(resident_id=person.resident_id), limit=1)
    view: VolunteerView
    if found.items:
        view = found.items[0]
        summary.add("demo responders (WeChat sign-in)", False)
    else:
        view = await volunteers.apply(
            await account(),
            PersonForm(
                name=person.name,
                phone=person.phone,
                resident_id=person.resident_id,
                address=person.address,
                station_id=station_id,
                source_category="public_order_activist",
                skills=["first_aid"],
                preferred_roles=["security"],
            ),
            ConsentInput(volunteers.privacy_notice_version, accepted=True),
        )
        summary.add("demo responders (WeChat sign-in)", True)
    await _activate(volunteers, scope, view)

    teams = services.get(TeamService)
    current = (await teams.teams_of(scope, [view.id])).get(view.id, [])
    if all(t.id != unit.id for t in current):
        await teams.add_member(scope, unit.id, view.id)
        summary.add("emergency unit members", True)
    else:
        summary.add("emergency unit members", False)

    await _first_aid(services, scope, view.id, summary)
    units = services.get(EmergencyUnitService)
    members, _ = await units.members(scope, unit.id, limit=200)
    mine = next((m for m in members if m.volunteer_id == view.id), None)
    if mine is None or Capability.FIRST_AID not in mine.claimed:
        await units.claim_capabilities(await account(), unit.id, [Capability.FIRST_AID])
        summary.add("emergency capability claims", True)
    else:
        summary.add("emergency capability claims", False)


async def _activate(volunteers: VolunteerService, scope: Scope, view: VolunteerView) -> None:
    """The station's steps: background check passed, then training → probation → active."""
    if view.status == S.APPLIED:
        await volunteers.record_background_check(
            scope, view.id, CheckInput(result=CheckResult.PASSED, note="演示背景审查")
        )
    steps = [S.TRAINING, S.PROBATION, S.ACTIVE]
    if view.status in steps:
        steps = steps[steps.index(view.status) + 1 :]
    elif view.status not in (S.APPLIED, S.VETTED):
        return  # suspended or final: left as an operator made it
    for step in steps:
        await volunteers.change_status(scope, view.id, step)


async def _first_aid(
    services: Services, scope: Scope, volunteer_id: uuid.UUID, summary: SeedSummary
) -> None:
    """A first-aid certificate (valid for years) backing the capability claim."""
    training = services.get(TrainingService)
    held = await training.trainings(scope, volunteer_id)
    if any(c.course.code == FIRST_AID_COURSE for c in held):
        summary.add("training records", False)
        return
    course = None
    after = None
    while course is None:
        page = await training.list_courses(scope, limit=100, after=after)
        course = next((c for c in page.items if c.code == FIRST_AID_COURSE), None)
        if page.next_after is None:
            break
        after = page.items[-1].id
    if course is None:
        return
    today = local_date(services.get_any(Clock).now())
    await training.record_training(scope, volunteer_id, course.id, today - timedelta(days=30))
    summary.add("training records", True)
