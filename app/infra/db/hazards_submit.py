"""A hazard report as ONE statement in autocommit (``ReportWriter``).

Conditions first, against the statement's snapshot: the hourly limits of the account and
the device (the velocity log), every photo the reporter's own, ready and attached to
nothing, the Idempotency-Key not yet stored. Then everything the report writes: the hazard,
its reporter, history and sync-feed entry, the velocity-log entry, the photos attached,
outbox events, audit entries and the key completed with its response. One round trip on
the native pool, atomic as any single statement. A photo attached meanwhile by another
report (seen only while writing) aborts the whole statement (``shouwang_refuse``, SQLSTATE
SW409, migration 0024): the caller then takes the unit-of-work path, which answers why.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.hazards.ports import ReportOutcome, ReportResult, ReportWrite
from app.domain.review.velocity import Recent, VelocityGuard
from app.domain.shared.ids import new_id
from app.domain.shared.protection import BlindIndexer
from app.infra.db import raw
from app.infra.db.hazards_repo import REPORTER_PURPOSE, event_row
from app.infra.db.idempotency import (
    receipt_args,
    receipt_cte,
    receipt_key_free,
    receipt_taken,
)
from app.infra.db.params import Params, Statement, block_values
from app.infra.db.review_repo import ACCOUNT_PURPOSE, DEVICE_PURPOSE
from app.infra.db.uow import (
    AUDITS_FROM_JSON,
    EVENTS_FROM_JSON,
    audit_entries,
    outbox_rows,
    rows_json,
)

REFUSED = "SW409"  # shouwang_refuse()


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a report's statement holds: the velocity log (and which hourly limits), the
    receipt, the number of photos. One text each (app/infra/db/params.py)."""

    logged: bool
    account_limited: bool
    device_limited: bool
    keyed: bool
    photos: int


@functools.cache
def _statement(shape: _Shape) -> Statement:
    """Built from constants; every value is a parameter."""
    p = Params()
    photos = [p(f"photo.{i}", "uuid") for i in range(shape.photos)]
    attachable = (
        f"id IN ({', '.join(photos)}) AND owner_account_id = {p('reporter', 'uuid')}"
        " AND status = 'ready' AND attached_record_id IS NULL"
    )
    receipt = p.block("receipt", 9) if shape.keyed else 0
    key_free = receipt_key_free(receipt) if shape.keyed else "true"
    sides = []
    if shape.account_limited:
        sides.append(("by_account", f"account_bidx = {p('account_bidx', 'bytea')}", "account"))
    if shape.device_limited:
        sides.append(("by_device", f"device_bidx = {p('device_bidx', 'bytea')}", "device"))
    conditions = ["(SELECT ok FROM fit)", key_free]
    if sides:
        earlier = f"""earlier AS (
        SELECT at, {", ".join(f"coalesce({match}, false) AS {side}" for side, match, _ in sides)}
        FROM submission_log
        WHERE record_type = {p("record_type", "text")} AND at > {p("since", "timestamptz")}
          AND ({" OR ".join(match for _, match, _ in sides)})
    ), """  # noqa: S608
        conditions += [
            f"(SELECT count(*) FROM earlier WHERE {side}) < {p(limit + '_limit', 'int')}"  # noqa: S608
            for side, _, limit in sides
        ]
    else:
        earlier = ""

    def recent(side: str) -> str:
        if any(s == side for s, _, _ in sides):
            return f"ARRAY(SELECT at FROM earlier WHERE {side})"  # noqa: S608
        return "'{}'::timestamptz[]"

    logged = (
        f"""logged AS (
        INSERT INTO submission_log (id, record_type, record_id, account_bidx, device_bidx, at)
        SELECT {p("log_id", "uuid")}, {p("record_type", "text")}, id,
               {p("account_bidx", "bytea")}, {p("device_bidx", "bytea")}, reported_at
        FROM new_hazard
    ), """  # noqa: S608
        if shape.logged
        else ""
    )
    fit = (
        f"SELECT count(*) = {shape.photos} AS ok FROM media_objects WHERE {attachable}"  # noqa: S608
        if photos
        else "SELECT true AS ok"
    )
    attached = (
        f"""attached AS (
        UPDATE media_objects
        SET attached_record_type = 'hazard', attached_record_id = {p("id", "uuid")},
            version = version + 1, updated_at = now()
        WHERE {attachable} AND EXISTS (SELECT 1 FROM new_hazard)
        RETURNING id
    ), """  # noqa: S608
        if photos
        else ""
    )
    refused = (
        f"""CASE WHEN EXISTS (SELECT 1 FROM new_hazard)
                     AND (SELECT count(*) FROM attached) <> {shape.photos}
                THEN shouwang_refuse('a photo was attached meanwhile') END"""  # noqa: S608
        if photos
        else "NULL"
    )
    keyed = f", receipt AS ({receipt_cte(receipt, 'new_hazard')}\n    )" if shape.keyed else ""
    text = f"""
    WITH {earlier}fit AS ({fit}
    ), go AS (
        SELECT 1 WHERE {" AND ".join(conditions)}
    ), new_hazard AS (
        INSERT INTO hazards (id, category, description, place, location, district_id,
                             station_id, community_id, grid_id, reporter_id, reported_at,
                             status, media_ids)
        SELECT {p("id", "uuid")}, {p("category", "text")}, {p("description", "text")},
               {p("place", "text")},
               ST_SetSRID(ST_MakePoint({p("lon", "float8")}, {p("lat", "float8")}),
                          4326)::geography,
               {p("district", "uuid")}, {p("station", "uuid")}, {p("community", "uuid")},
               {p("grid", "uuid")}, {p("reporter", "uuid")}, {p("at", "timestamptz")},
               {p("status", "text")}, ARRAY[{", ".join(photos)}]::uuid[]
        FROM go
        ON CONFLICT (id) DO NOTHING
        RETURNING id, reported_at
    ), reporters AS (
        INSERT INTO hazard_reporters (hazard_id, account_id, reporter_bidx, via_hazard_id,
                                      joined_at)
        SELECT id, {p("reporter", "uuid")}, {p("reporter_bidx", "bytea")}, id, reported_at
        FROM new_hazard
        RETURNING reporter_bidx
    ), history AS (
        INSERT INTO hazard_events (id, hazard_id, kind, at, from_status, to_status,
                                   by_account, detail)
        SELECT ev.id, ev.hazard_id, ev.kind, ev.at, ev.from_status, ev.to_status,
               ev.by_account, coalesce(ev.detail, '{{}}'::jsonb)
        FROM jsonb_populate_recordset(NULL::hazard_events, {p("history", "jsonb")}) AS ev
        WHERE EXISTS (SELECT 1 FROM new_hazard)
    ), feed AS (
        INSERT INTO change_log (feed, record_type, record_id, op)
        SELECT reporter_bidx, 'hazard', {p("id", "uuid")}, 'upsert' FROM reporters
    ), {logged}{attached}outbox_rows AS ({EVENTS_FROM_JSON.format(p("outbox"))}
        WHERE EXISTS (SELECT 1 FROM new_hazard)
    ), audit_rows AS ({AUDITS_FROM_JSON.format(p("audits"))}
        WHERE EXISTS (SELECT 1 FROM new_hazard)
    ){keyed}
    SELECT EXISTS (SELECT 1 FROM new_hazard) AS stored, (SELECT ok FROM fit) AS fit,
           {key_free} AS key_free, {recent("by_account")} AS by_account,
           {recent("by_device")} AS by_device, {refused} AS refused
"""  # noqa: S608
    return p.statement(text)


class SqlReportWriter:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], indexer: BlindIndexer
    ) -> None:
        self._single = raw.Autocommit.of(session_factory)
        self._indexer = indexer

    def _velocity_values(self, guard: VelocityGuard | None) -> dict[str, Any]:
        if guard is None:
            return {}
        s = guard.submission
        index = self._indexer.index
        return {
            "record_type": s.record_type,
            "account_bidx": index(str(s.account_id), purpose=ACCOUNT_PURPOSE)
            if s.account_id
            else None,
            "device_bidx": index(s.device_id, purpose=DEVICE_PURPOSE) if s.device_id else None,
            "since": guard.since,
            "account_limit": guard.account_limit,
            "device_limit": guard.device_limit,
            "log_id": new_id(),
        }

    async def write(self, report: ReportWrite) -> ReportResult:
        h, scope, guard = report.hazard, report.scope, report.velocity
        r = h.routing
        keyed = report.receipt is not None and report.response is not None
        statement = _statement(
            _Shape(
                logged=guard is not None,
                account_limited=guard is not None and guard.account_limit is not None,
                device_limited=guard is not None and guard.device_limit is not None,
                keyed=keyed,
                photos=len(h.media_ids),
            )
        )
        values: dict[str, Any] = {
            "id": h.id,
            "category": h.category.value,
            "description": h.description,
            "place": h.place,
            "lon": h.location.lon,
            "lat": h.location.lat,
            "district": r.district_id,
            "station": r.station_id,
            "community": r.community_id,
            "grid": r.grid_id,
            "reporter": h.reporter_id,
            "at": h.reported_at,
            "status": h.status.value,
            "reporter_bidx": self._indexer.index(str(h.reporter_id), purpose=REPORTER_PURPOSE),
            "history": rows_json([event_row(ev) for ev in h.pending]),
            "outbox": rows_json(outbox_rows(report.events, scope.request_id)),
            "audits": rows_json(audit_entries(scope, h.reported_at, report.audits)),
            **block_values("photo", h.media_ids),
            **self._velocity_values(guard),
        }
        if keyed:
            values.update(block_values("receipt", receipt_args(report.receipt, report.response)))
        try:
            row = await self._single.fetchrow(statement.text, *statement.args(values))
        except asyncpg.UniqueViolationError as exc:
            if not receipt_taken(exc):
                raise
            return ReportResult(ReportOutcome.KEY_TAKEN)
        except asyncpg.PostgresError as exc:
            if exc.sqlstate != REFUSED:
                raise
            return ReportResult(ReportOutcome.MEDIA_UNFIT)
        assert row is not None
        if row["stored"]:
            return ReportResult(ReportOutcome.STORED)
        if not row["key_free"]:
            return ReportResult(ReportOutcome.KEY_TAKEN)
        recent = Recent(by_account=row["by_account"], by_device=row["by_device"])
        if guard is not None and (
            (guard.account_limit is not None and len(recent.by_account) >= guard.account_limit)
            or (guard.device_limit is not None and len(recent.by_device) >= guard.device_limit)
        ):
            return ReportResult(ReportOutcome.RATE_LIMITED, recent)
        if not row["fit"]:
            return ReportResult(ReportOutcome.MEDIA_UNFIT)
        return ReportResult(ReportOutcome.ID_TAKEN)
