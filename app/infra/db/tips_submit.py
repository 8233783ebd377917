"""A plain tip submission as ONE statement in autocommit (``SubmissionWriter``).

Everything the submission writes, each part conditional on the ones before: the hourly
limit (the account's earlier entries in the window, under a keyed digest), the
Idempotency-Key not yet stored, then the tip with its sealed informant, history and
sync-feed entry (the same CTEs as the unit of work's insert), the rate-log entry, the
outbox event and the key completed with its response (submissions are not audited:
the actor would name the informant). One round trip on
the native pool (no BEGIN/COMMIT, no session), atomic as any single statement: a refused
or repeated submission writes nothing at all.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.shared.ids import new_id
from app.domain.shared.protection import BlindIndexer, FieldCipher
from app.domain.tips.ports import SubmissionWrite, SubmitOutcome, SubmitResult
from app.infra.db import raw
from app.infra.db.idempotency import (
    receipt_args,
    receipt_cte,
    receipt_key_free,
    receipt_taken,
)
from app.infra.db.tips_repo import rate_key, tip_write_args, tip_writes
from app.infra.db.uow import EVENTS_FROM_JSON, outbox_rows, rows_json

# $1–$21: the tip (tip_write_args); $22 rate key, $23 window start, $24 limit, $25 log id,
# $26 outbox rows (a JSON array); $27–$35 the receipt (receipt_args).
_KEY_FREE = receipt_key_free(27)
# Built from constants; every value is a $n parameter.
_SUBMIT = f"""
    WITH earlier AS (
        SELECT at FROM tip_submissions
        WHERE submitter_bidx = $22::bytea AND at > $23::timestamptz
    ), go AS (
        SELECT 1 WHERE (SELECT count(*) FROM earlier) < $24::int AND {_KEY_FREE}
    ), {tip_writes("FROM go")}, logged AS (
        INSERT INTO tip_submissions (id, submitter_bidx, at)
        SELECT $25::uuid, $22::bytea, $15::timestamptz FROM new_tip
    ), outbox_rows AS ({EVENTS_FROM_JSON.format("$26")} WHERE EXISTS (SELECT 1 FROM new_tip)
    ), receipt AS ({receipt_cte(27, "new_tip")}
    )
    SELECT EXISTS (SELECT 1 FROM new_tip) AS stored, ARRAY(SELECT at FROM earlier) AS earlier,
           {_KEY_FREE} AS key_free
"""  # noqa: S608


class SqlSubmissionWriter:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        indexer: BlindIndexer,
    ) -> None:
        self._single = raw.Autocommit.of(session_factory)
        self._cipher = cipher
        self._indexer = indexer

    async def write(self, submission: SubmissionWrite) -> SubmitResult:
        s = submission
        tip = s.tip
        try:
            row = await self._single.fetchrow(
                _SUBMIT,
                *tip_write_args(tip, s.informant, s.submitter, self._cipher, self._indexer),
                rate_key(self._indexer, s.submitter),
                s.rate.window_start,
                s.rate.limit,
                new_id(),
                rows_json(outbox_rows([s.event], s.scope.request_id)),
                *receipt_args(s.receipt, s.response),
            )
        except asyncpg.UniqueViolationError as exc:
            if not receipt_taken(exc):
                raise
            return SubmitResult(SubmitOutcome.KEY_TAKEN)
        assert row is not None
        if row["stored"]:
            return SubmitResult(SubmitOutcome.STORED)
        if not row["key_free"]:
            return SubmitResult(SubmitOutcome.KEY_TAKEN)
        earlier = row["earlier"]
        if len(earlier) >= s.rate.limit:
            return SubmitResult(SubmitOutcome.RATE_LIMITED, earlier)
        return SubmitResult(SubmitOutcome.ID_TAKEN)
