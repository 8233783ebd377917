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

from typing import Any

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.hazards.ports import ReportOutcome, ReportResult, ReportWrite
from app.domain.review.velocity import Recent
from app.domain.shared.ids import new_id
from app.domain.shared.protection import BlindIndexer
from app.infra.db import raw
from app.infra.db.hazards_repo import REPORTER_PURPOSE
from app.infra.db.idempotency import (
    receipt_args,
    receipt_cte,
    receipt_key_free,
    receipt_taken,
)
from app.infra.db.review_repo import ACCOUNT_PURPOSE, DEVICE_PURPOSE
from app.infra.db.uow import (
    AUDITS_FROM_JSON,
    EVENTS_FROM_JSON,
    audit_entries,
    outbox_rows,
    rows_json,
)

REFUSED = "SW409"  # shouwang_refuse()
_KEY_FREE = receipt_key_free(26)
_PHOTOS = "$14::uuid[]"
_ATTACHABLE = (
    f"id = ANY({_PHOTOS}) AND owner_account_id = $11::uuid AND status = 'ready'"
    " AND attached_record_id IS NULL"
)
# $1–$14 the hazard, $15 reporter index, $16 history (JSON), $17 velocity record type (NULL:
# no limits, nothing logged), $18 account and $19 device indexes, $20 window start, $21
# account and $22 device limits (NULL: none), $23 log id, $24 outbox rows, $25 audit
# entries (JSON), $26–$34 the receipt (receipt_args). Built from constants; every value is
# a $n parameter.
_REPORT = f"""
    WITH earlier AS (
        SELECT at, coalesce(account_bidx = $18::bytea, false) AS by_account,
               coalesce(device_bidx = $19::bytea, false) AS by_device
        FROM submission_log
        WHERE $17::text IS NOT NULL AND record_type = $17::text AND at > $20::timestamptz
          AND (account_bidx = $18::bytea OR device_bidx = $19::bytea)
    ), fit AS (
        SELECT count(*) = cardinality({_PHOTOS}) AS ok FROM media_objects WHERE {_ATTACHABLE}
    ), go AS (
        SELECT 1
        WHERE ($21::int IS NULL OR (SELECT count(*) FROM earlier WHERE by_account) < $21::int)
          AND ($22::int IS NULL OR (SELECT count(*) FROM earlier WHERE by_device) < $22::int)
          AND (SELECT ok FROM fit) AND {_KEY_FREE}
    ), new_hazard AS (
        INSERT INTO hazards (id, category, description, place, location, district_id,
                             station_id, community_id, grid_id, reporter_id, reported_at,
                             status, media_ids)
        SELECT $1::uuid, $2::text, $3::text, $4::text,
               ST_SetSRID(ST_MakePoint($5::float8, $6::float8), 4326)::geography,
               $7::uuid, $8::uuid, $9::uuid, $10::uuid, $11::uuid, $12::timestamptz,
               $13::text, {_PHOTOS}
        FROM go
        ON CONFLICT (id) DO NOTHING
        RETURNING id
    ), reporters AS (
        INSERT INTO hazard_reporters (hazard_id, account_id, reporter_bidx, via_hazard_id,
                                      joined_at)
        SELECT id, $11::uuid, $15::bytea, id, $12::timestamptz FROM new_hazard
        RETURNING reporter_bidx
    ), history AS (
        INSERT INTO hazard_events (id, hazard_id, kind, at, from_status, to_status,
                                   by_account, detail)
        SELECT ev.id, ev.hazard_id, ev.kind, ev.at, ev.from_status, ev.to_status,
               ev.by_account, coalesce(ev.detail, '{{}}'::jsonb)
        FROM jsonb_populate_recordset(NULL::hazard_events, $16::jsonb) AS ev
        WHERE EXISTS (SELECT 1 FROM new_hazard)
    ), feed AS (
        INSERT INTO change_log (feed, record_type, record_id, op)
        SELECT reporter_bidx, 'hazard', $1::uuid, 'upsert' FROM reporters
    ), logged AS (
        INSERT INTO submission_log (id, record_type, record_id, account_bidx, device_bidx, at)
        SELECT $23::uuid, $17::text, $1::uuid, $18::bytea, $19::bytea, $12::timestamptz
        FROM new_hazard WHERE $17::text IS NOT NULL
    ), attached AS (
        UPDATE media_objects
        SET attached_record_type = 'hazard', attached_record_id = $1::uuid,
            version = version + 1, updated_at = now()
        WHERE {_ATTACHABLE} AND EXISTS (SELECT 1 FROM new_hazard)
        RETURNING id
    ), outbox_rows AS ({EVENTS_FROM_JSON.format("$24")} WHERE EXISTS (SELECT 1 FROM new_hazard)
    ), audit_rows AS ({AUDITS_FROM_JSON.format("$25")} WHERE EXISTS (SELECT 1 FROM new_hazard)
    ), receipt AS ({receipt_cte(26, "new_hazard")}
    )
    SELECT EXISTS (SELECT 1 FROM new_hazard) AS stored, (SELECT ok FROM fit) AS fit,
           {_KEY_FREE} AS key_free,
           ARRAY(SELECT at FROM earlier WHERE by_account) AS by_account,
           ARRAY(SELECT at FROM earlier WHERE by_device) AS by_device,
           CASE WHEN EXISTS (SELECT 1 FROM new_hazard)
                     AND (SELECT count(*) FROM attached) <> cardinality({_PHOTOS})
                THEN shouwang_refuse('a photo was attached meanwhile') END AS refused
"""  # noqa: S608


class SqlReportWriter:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], indexer: BlindIndexer
    ) -> None:
        self._single = raw.Autocommit.of(session_factory)
        self._indexer = indexer

    def _velocity_args(self, report: ReportWrite) -> list[Any]:
        guard = report.velocity
        if guard is None:
            return [None] * 6
        s = guard.submission
        index = self._indexer.index
        return [
            s.record_type,
            index(str(s.account_id), purpose=ACCOUNT_PURPOSE) if s.account_id else None,
            index(s.device_id, purpose=DEVICE_PURPOSE) if s.device_id else None,
            guard.since,
            guard.account_limit,
            guard.device_limit,
        ]

    async def write(self, report: ReportWrite) -> ReportResult:
        h, scope = report.hazard, report.scope
        r = h.routing
        history = [
            {
                "id": str(ev.id),
                "hazard_id": str(ev.hazard_id),
                "kind": ev.kind.value,
                "at": ev.at.isoformat(),
                "from_status": ev.from_status.value if ev.from_status else None,
                "to_status": ev.to_status.value,
                "by_account": str(ev.by) if ev.by else None,
                "detail": ev.detail,
            }
            for ev in h.pending
        ]
        audits = audit_entries(scope, h.reported_at, report.audits)
        try:
            row = await self._single.fetchrow(
                _REPORT,
                h.id,
                h.category.value,
                h.description,
                h.place,
                h.location.lon,
                h.location.lat,
                r.district_id,
                r.station_id,
                r.community_id,
                r.grid_id,
                h.reporter_id,
                h.reported_at,
                h.status.value,
                list(h.media_ids),
                self._indexer.index(str(h.reporter_id), purpose=REPORTER_PURPOSE),
                orjson.dumps(history, default=str).decode(),
                *self._velocity_args(report),
                new_id(),
                rows_json(outbox_rows(report.events, scope.request_id)),
                rows_json(audits),
                *receipt_args(report.receipt, report.response),
            )
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
        guard = report.velocity
        recent = Recent(by_account=row["by_account"], by_device=row["by_device"])
        if guard is not None and (
            (guard.account_limit is not None and len(recent.by_account) >= guard.account_limit)
            or (guard.device_limit is not None and len(recent.by_device) >= guard.device_limit)
        ):
            return ReportResult(ReportOutcome.RATE_LIMITED, recent)
        if not row["fit"]:
            return ReportResult(ReportOutcome.MEDIA_UNFIT)
        return ReportResult(ReportOutcome.ID_TAKEN)
