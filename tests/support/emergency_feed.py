"""Rows for realtime-feed tests, written straight with SQL (as the incident service would
commit them): an incident, responses, and events (whose insert trigger notifies
``shouwang_emergency``)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.shared.ids import new_id

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class IncidentRows:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        station_id: uuid.UUID | None,
        district_id: uuid.UUID,
        at: tuple[float, float],
        drill: bool = False,
    ) -> None:
        self.sf = session_factory
        self.id = new_id()
        self.station_id = station_id
        self.district_id = district_id
        self.at = at
        self.drill = drill

    async def create(self, description: str = "河边有人落水，需要救援") -> IncidentRows:
        async with self.sf() as s:
            await s.execute(
                sa.text(
                    "INSERT INTO emergency_incidents (id, type, severity, location, description,"
                    " raised_by, station_id, district_id, drill, raised_at, status, policy)"
                    " VALUES (:id, 'drowning', 'critical',"
                    " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :d,"
                    " 'command_centre', :st, :di, :drill, :at, 'dispatching', '{}'::jsonb)"
                ),
                {
                    "id": self.id,
                    "lon": self.at[0],
                    "lat": self.at[1],
                    "d": description,
                    "st": self.station_id,
                    "di": self.district_id,
                    "drill": self.drill,
                    "at": NOW,
                },
            )
            await s.commit()
        return self

    async def event(
        self,
        kind: str,
        member: uuid.UUID | str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append an event (and, for ``alerted``, the member's response) in one commit;
        returns its seq."""
        member_id = uuid.UUID(str(member)) if member is not None else None
        async with self.sf() as s:
            if kind == "alerted" and member_id is not None:
                await s.execute(
                    sa.text(
                        "INSERT INTO emergency_responses (incident_id, member_id, ring, status,"
                        " steps, drill, alerted_at) VALUES (:i, :m, 0, 'alerted', '[]'::jsonb,"
                        " :drill, :at)"
                    ),
                    {"i": self.id, "m": member_id, "drill": self.drill, "at": NOW},
                )
            seq = (
                await s.execute(
                    sa.text(
                        "INSERT INTO emergency_incident_events (id, incident_id, kind, at, drill,"
                        " member_id, detail, station_id, district_id) VALUES (:id, :i, :k, :at,"
                        " :drill, :m, CAST(:detail AS jsonb), :st, :di) RETURNING seq"
                    ),
                    {
                        "id": new_id(),
                        "i": self.id,
                        "k": kind,
                        "at": NOW,
                        "drill": self.drill,
                        "m": member_id,
                        "detail": json.dumps(detail or {}),
                        "st": self.station_id,
                        "di": self.district_id,
                    },
                )
            ).scalar_one()
            await s.commit()
        return int(seq)


async def delivered_at(
    session_factory: async_sessionmaker[AsyncSession], incident: uuid.UUID, member: uuid.UUID
) -> datetime | None:
    async with session_factory() as s:
        value: datetime | None = (
            await s.execute(
                sa.text(
                    "SELECT delivered_at FROM emergency_responses"
                    " WHERE incident_id = :i AND member_id = :m"
                ),
                {"i": incident, "m": member},
            )
        ).scalar_one()
    return value


async def active_volunteer(client: Any, settings: Any, officer: str, tree: Any) -> tuple[str, str]:
    """An active volunteer of the tree's station, signed in: (access token, volunteer id)."""
    from support.auth import auth, resident_token
    from support.volunteers import activate, application

    token, _ = await resident_token(client, settings)
    r = await client.post(
        "/api/v1/volunteer-applications", json=application(tree), headers=auth(token)
    )
    assert r.status_code == 201, r.text
    vid = str(r.json()["id"])
    await activate(client, officer, vid)
    return token, vid
