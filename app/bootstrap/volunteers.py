"""Wiring of the volunteers context (archive, teams, training, badges) and the
``import-volunteers`` operator command."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.identity import blind_indexer, field_cipher
from app.bootstrap.platform import Platform, build_platform
from app.domain.identity.ports import PrincipalChanges
from app.domain.shared.clock import Clock
from app.domain.shared.errors import InvalidInput
from app.domain.shared.imports import ImportReport, Progress
from app.domain.shared.protection import BlindIndexer, FieldCipher
from app.domain.shared.scope import Scope, system_scope
from app.domain.volunteers.badge import BadgeService
from app.domain.volunteers.importing import VolunteerImporter
from app.domain.volunteers.ports import VolunteersUnitOfWork
from app.domain.volunteers.services import UowFactory, VolunteerService
from app.domain.volunteers.team_service import TeamService
from app.domain.volunteers.training_service import TrainingService
from app.infra.db.principal_cache import CachingPrincipalReader
from app.infra.db.volunteers_uow import SqlVolunteersUnitOfWork
from app.settings import Settings


def uow_factory(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    cipher: FieldCipher,
    indexer: BlindIndexer,
    principal_changes: PrincipalChanges | None = None,
) -> UowFactory:
    def make(scope: Scope) -> VolunteersUnitOfWork:
        return SqlVolunteersUnitOfWork(
            session_factory, scope, clock, cipher, indexer, principal_changes
        )

    return make


@dataclass(frozen=True)
class VolunteerServices:
    volunteers: VolunteerService
    teams: TeamService
    training: TrainingService
    badges: BadgeService
    importer: VolunteerImporter


def build_services(
    platform: Platform, principal_changes: PrincipalChanges | None = None
) -> VolunteerServices:
    settings = platform.settings
    factory = uow_factory(
        platform.session_factory,
        platform.clock,
        field_cipher(settings),
        blind_indexer(settings),
        principal_changes,
    )
    volunteers = VolunteerService(
        factory, platform.clock, privacy_notice_version=settings.privacy_notice_version
    )
    return VolunteerServices(
        volunteers=volunteers,
        teams=TeamService(factory, platform.clock),
        training=TrainingService(factory, platform.clock),
        badges=BadgeService(factory, platform.clock),
        importer=VolunteerImporter(volunteers),
    )


def wire(services: Services, platform: Platform) -> None:
    # Role changes (volunteer, team leader) drop the account's cached principal at once.
    try:
        cache: PrincipalChanges | None = services.get(CachingPrincipalReader)
    except LookupError:
        cache = None
    built = build_services(platform, cache)
    services.register(VolunteerService, built.volunteers)
    services.register(TeamService, built.teams)
    services.register(TrainingService, built.training)
    services.register(BadgeService, built.badges)
    services.register(VolunteerImporter, built.importer)


# --- import-volunteers ---------------------------------------------------------------------

Table = tuple[list[str], list[tuple[str, list[str]]]]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Spreadsheets turn long digit strings typed as numbers into floats.
        return str(int(value))
    return str(value).strip()


def _rows(raw: Sequence[Sequence[object]]) -> Table:
    """Header row, then (row number as shown by the spreadsheet, cells) for non-empty rows."""
    if not raw:
        raise InvalidInput("The file is empty.", "文件为空。", code="import.empty_file")
    headers = [_cell(c) for c in raw[0]]
    rows = [
        (str(number), [_cell(c) for c in cells])
        for number, cells in enumerate(raw[1:], start=2)
        if any(_cell(c) for c in cells)
    ]
    return headers, rows


def read_csv(data: bytes) -> Table:
    # utf-8-sig: Excel writes a byte order mark; GB18030 is what older Chinese Excel saves.
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return _rows(list(csv.reader(io.StringIO(text))))


def read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return _rows([list(r) for r in sheet.iter_rows(values_only=True)])
    finally:
        book.close()


def read_table(path: Path) -> Table:
    data = path.read_bytes()
    if path.suffix.lower() == ".xlsx":
        return read_xlsx(data)
    if path.suffix.lower() == ".csv":
        return read_csv(data)
    raise InvalidInput(
        "Import CSV (.csv) or Excel (.xlsx) files.",
        "请导入 CSV（.csv）或 Excel（.xlsx）文件。",
        code="import.unsupported_file",
    )


async def import_volunteers(
    settings: Settings, path: Path, station_code: str | None, progress: Progress
) -> ImportReport:
    """Register volunteers from a spreadsheet as the operator (every row audited)."""
    headers, rows = await asyncio.to_thread(read_table, path)
    platform = build_platform(settings)
    try:
        return await build_services(platform).importer.run(
            system_scope(), headers, rows, default_station_code=station_code, progress=progress
        )
    finally:
        await platform.aclose()
