"""Who an emergency alert goes to, read at delivery time by the outbox worker (system
scope: the worker acts for the installation), and the at-most-once claim of an alert SMS.

The phone number is the one on the volunteer's record (sealed, ``volunteer.phone``);
it is opened here and handed to the SMS adapter only, never logged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.emergency.alert_delivery import AlertTarget
from app.domain.emergency.glossary import IncidentType
from app.domain.emergency.incident import LIVE
from app.domain.emergency.responses import ResponseStatus
from app.domain.shared.protection import FieldCipher, Sealed, SealedDataUnreadable
from app.domain.shared.scope import system_scope
from app.infra.db.hazards_repo import SqlDepartmentRepository
from app.infra.db.tables.delivery import outbox_deliveries
from app.infra.db.tables.emergency_incidents import emergency_incidents, emergency_responses
from app.infra.db.tables.volunteers import volunteers
from app.infra.db.volunteers_repo import PHONE_CONTEXT

logger = logging.getLogger(__name__)

_LIVE = tuple(status.value for status in LIVE)


class SqlAlertTargets:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

    async def target(self, incident_id: uuid.UUID, member_id: uuid.UUID) -> AlertTarget | None:
        r, i, v = emergency_responses, emergency_incidents, volunteers
        query = (
            sa.select(
                r.c.status.label("response_status"),
                i.c.status.label("incident_status"),
                i.c.drill,
                i.c.type,
                v.c.account_id,
                v.c.phone_key_id,
                v.c.phone_sealed,
            )
            .select_from(r.join(i, i.c.id == r.c.incident_id).join(v, v.c.id == r.c.member_id))
            .where(r.c.incident_id == incident_id, r.c.member_id == member_id)
        )
        async with self._sessions() as s:
            row = (await s.execute(query)).one_or_none()
        if row is None:
            return None
        try:
            phone: str | None = self._cipher.open(
                Sealed(row.phone_key_id, bytes(row.phone_sealed)), context=PHONE_CONTEXT
            )
        except SealedDataUnreadable:
            logger.warning("emergency alert: phone of volunteer %s unreadable", member_id)
            phone = None
        return AlertTarget(
            account_id=row.account_id,
            phone=phone,
            drill=row.drill,
            incident_type=IncidentType(row.type),
            pending=row.response_status == ResponseStatus.ALERTED.value
            and row.incident_status in _LIVE,
        )

    @asynccontextmanager
    async def claim_send(self, event_id: uuid.UUID, handler: str) -> AsyncIterator[bool]:
        """The claim is the row the delivery worker writes after a handler succeeds (its
        own insert then does nothing). Inserted in a transaction held over the block: a
        concurrent claim of the same event waits for it, then finds it (or takes it over
        when the block failed and rolled back)."""
        async with self._sessions() as s, s.begin():
            claimed = await s.execute(
                insert(outbox_deliveries)
                .values(event_id=event_id, handler=handler, delivered_at=sa.func.now())
                .on_conflict_do_nothing()
            )
            yield bool(claimed.rowcount)  # type: ignore[attr-defined]


class SqlStationStaff:
    """The station's officers and admins (no station: the district's admins), active
    accounts only — the same people hazards escalate to."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def staff(self, station_id: uuid.UUID | None, district_id: uuid.UUID) -> list[uuid.UUID]:
        async with self._sessions() as session:
            return await SqlDepartmentRepository(session, system_scope()).staff(
                station_id, district_id
            )
