"""Unit of work of the volunteers context: one transaction, all its repositories."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.identity.ports import PrincipalChanges
from app.domain.shared.clock import Clock
from app.domain.shared.protection import BlindIndexer, FieldCipher
from app.domain.shared.scope import Scope
from app.domain.volunteers.ports import (
    NumberCounter,
    RoleGrants,
    StationDirectory,
    TeamRepository,
    TrainingRepository,
    VolunteerRepository,
)
from app.infra.db.teams_repo import SqlTeamRepository
from app.infra.db.training_repo import SqlTrainingRepository
from app.infra.db.uow import SqlUnitOfWork
from app.infra.db.volunteers_repo import (
    SqlNumberCounter,
    SqlRoleGrants,
    SqlStationDirectory,
    SqlVolunteerRepository,
)


class SqlVolunteersUnitOfWork(SqlUnitOfWork):
    # Typed as the ports, so mypy checks each adapter against its protocol.
    volunteers: VolunteerRepository
    teams: TeamRepository
    training: TrainingRepository
    stations: StationDirectory
    numbers: NumberCounter
    roles: RoleGrants

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        scope: Scope,
        clock: Clock,
        cipher: FieldCipher,
        indexer: BlindIndexer,
        principal_changes: PrincipalChanges | None = None,
    ) -> None:
        super().__init__(session_factory, scope, clock)
        self._cipher = cipher
        self._indexer = indexer
        self._principal_changes = principal_changes

    def _roles_changed(self, account_id: uuid.UUID) -> None:
        """A cached principal of the account is dropped once the role change commits (other
        processes learn it through the database's NOTIFY)."""
        changes = self._principal_changes
        if changes is not None:
            self.after_commit(lambda: changes.changed(account_id))

    def _open_repositories(self) -> None:
        s = self.session
        self.volunteers = SqlVolunteerRepository(s, self.scope, self._cipher, self._indexer)
        self.teams = SqlTeamRepository(s, self.scope)
        self.training = SqlTrainingRepository(s, self.scope)
        self.stations = SqlStationDirectory(s)
        self.numbers = SqlNumberCounter(s)
        self.roles = SqlRoleGrants(s, self._roles_changed)
