"""``shouwang seed-demo``: the synthetic Wujin district, loaded through the same use cases
a user would drive, so demo data obeys every rule. Idempotent: what exists is kept."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from app.api.container import Services
from app.bootstrap import demo_data as data
from app.bootstrap import wiring
from app.bootstrap.platform import build_platform, wire_platform
from app.domain.identity.errors import UsernameTaken
from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.organisation.model import WatchPointCodeTaken
from app.domain.organisation.services import (
    JurisdictionImportService,
    NewWatchPoint,
    WatchPointService,
)
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import system_scope
from app.settings import Settings


@dataclass
class SeedSummary:
    created: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, created: bool) -> None:
        bucket = self.created if created else self.kept
        bucket[what] = bucket.get(what, 0) + 1


class DemoRefused(RuntimeError):
    pass


async def seed(services: Services, summary: SeedSummary) -> None:
    scope = system_scope("seed-demo")
    report = await services.get(JurisdictionImportService).import_file(
        scope, json.dumps(data.jurisdictions(), ensure_ascii=False)
    )
    if report.rejected:
        raise DemoRefused(f"demo jurisdictions rejected: {report.rejected}")
    summary.kept["org units (imported or refreshed)"] = report.accepted

    officers = services.get(OfficerService)
    for username, role, suffix, name in data.OFFICERS:
        unit = data.station_code(suffix) if suffix else data.DISTRICT_CODE
        try:
            await officers.create_officer(
                scope, NewOfficer(username, data.DEMO_PASSWORD, unit, role, name)
            )
            summary.add("officers", True)
        except UsernameTaken:
            summary.add("officers", False)

    points = services.get(WatchPointService)
    for wp in data.WATCH_POINTS:
        try:
            await points.create(
                scope, NewWatchPoint(wp.name, GeoPoint(wp.lon, wp.lat), wp.radius_m, wp.code)
            )
            summary.add("watch points", True)
        except WatchPointCodeTaken:
            summary.add("watch points", False)

    from app.bootstrap.demo_volunteers import seed_volunteers

    await seed_volunteers(services, scope, summary)
    from app.bootstrap.demo_hazards import seed_hazards

    await seed_hazards(services, scope, summary)
    from app.bootstrap.demo_emergency import seed_emergency

    await seed_emergency(services, scope, summary)


async def seed_demo(settings: Settings, console: Console) -> SeedSummary:
    if settings.is_production:
        raise DemoRefused("seed-demo loads synthetic people and known passwords: not in production")
    platform = build_platform(settings)
    services = Services()
    wire_platform(services, platform)
    wiring.wire_contexts(services, platform)
    summary = SeedSummary()
    try:
        await seed(services, summary)
    finally:
        await platform.aclose()
    _print(console, summary)
    return summary


def _print(console: Console, summary: SeedSummary) -> None:
    from app.bootstrap.demo_hazards import DEPARTMENTS

    table = Table("what", "created", "already there", title="Demo data (武进 / Wujin, synthetic)")
    for what in sorted(set(summary.created) | set(summary.kept)):
        table.add_row(what, str(summary.created.get(what, 0)), str(summary.kept.get(what, 0)))
    console.print(table)
    logins = Table("username", "role", "unit", "password", title="Demo staff logins")
    for username, role, suffix, _ in data.OFFICERS:
        unit = data.station_code(suffix) if suffix else data.DISTRICT_CODE
        logins.add_row(username, role, unit, data.DEMO_PASSWORD)
    for username, department, _, _ in DEPARTMENTS:  # hazards assigned to them only
        logins.add_row(username, "department", department, data.DEMO_PASSWORD)
    console.print(logins)
    console.print(
        "Residents sign in with any phone number: POST /api/v1/auth/otp, then read the code "
        "from the SMS outbox file (SHOUWANG_SMS_DEV_OUTBOX)."
    )
    from app.bootstrap.demo_emergency import print_responders

    print_responders(console)
