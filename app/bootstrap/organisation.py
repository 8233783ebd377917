"""Wiring of the organisation context, and the ``import-jurisdictions`` operator command."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.platform import Platform, build_platform
from app.domain.organisation.geojson import InvalidImportFile
from app.domain.organisation.ports import (
    JurisdictionLocator,
    OrganisationUnitOfWork,
    OrgUnitDirectory,
    WatchPointDirectory,
)
from app.domain.organisation.services import (
    JurisdictionImportService,
    OrgUnitService,
    UowFactory,
    WatchPointService,
)
from app.domain.shared.clock import Clock, SystemClock
from app.domain.shared.imports import ImportReport, Progress
from app.domain.shared.scope import Scope, system_scope
from app.infra.db import raw
from app.infra.db.org_locator import SqlJurisdictionLocator
from app.infra.db.org_tree_cache import CachedJurisdictionLocator
from app.infra.db.organisation_repo import (
    SqlOrganisationUnitOfWork,
    SqlOrgUnitDirectory,
    SqlWatchPointDirectory,
)
from app.settings import Settings


def uow_factory(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock | None = None
) -> UowFactory:
    def make(scope: Scope) -> OrganisationUnitOfWork:
        return SqlOrganisationUnitOfWork(session_factory, scope, clock)

    return make


def build_importer(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock | None = None
) -> JurisdictionImportService:
    """The import service on a bare session factory (tests, operator commands)."""
    return JurisdictionImportService(uow_factory(session_factory, clock), clock or SystemClock())


def wire(services: Services, platform: Platform) -> None:
    sf, clock = platform.session_factory, platform.clock
    factory = uow_factory(sf, clock)
    # Routing answers from a copy of the tree once identity's NOTIFY listener follows it
    # (app/bootstrap/identity.py); until then, and without one, from the database.
    locator = CachedJurisdictionLocator(SqlJurisdictionLocator(sf), raw.Autocommit.of(sf))
    services.register(JurisdictionLocator, locator)
    services.register(CachedJurisdictionLocator, locator)
    services.register(OrgUnitDirectory, SqlOrgUnitDirectory(sf))
    services.register(WatchPointDirectory, SqlWatchPointDirectory(sf))
    services.register(OrgUnitService, OrgUnitService(factory, locator))
    services.register(JurisdictionImportService, JurisdictionImportService(factory, clock))
    services.register(WatchPointService, WatchPointService(factory, locator, clock))


async def import_jurisdictions(settings: Settings, path: Path, progress: Progress) -> ImportReport:
    """``shouwang import-jurisdictions FILE``: as the operator (system scope, audited)."""
    platform = build_platform(settings)
    try:
        importer = build_importer(platform.session_factory, platform.clock)
        try:
            return await importer.import_file(
                system_scope(), await asyncio.to_thread(path.read_bytes), progress
            )
        except InvalidImportFile as exc:  # the file as a whole: one line in the report
            report = ImportReport()
            report.reject(path.name, exc.message_en)
            return report
    finally:
        await platform.aclose()
