"""Repositories and unit of work of the tips context.

Reads see tips routed into the scope (station_scope) plus the caller's own named tips,
found through the blind index of the reporter in ``tip_informants``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.media.ports import MediaRepository
from app.domain.shared.clock import Clock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.protection import BlindIndexer, FieldCipher, Sealed
from app.domain.shared.scope import Scope
from app.domain.tips.feedback import FeedbackTemplate
from app.domain.tips.model import (
    OPEN_WORK,
    Category,
    EventKind,
    Outcome,
    Routing,
    StationRef,
    Tip,
    TipEvent,
    TipStatus,
    Urgency,
)
from app.domain.tips.ports import (
    FeedbackTemplateStore,
    Informant,
    OfficerRoster,
    StationDirectory,
    SubmissionLog,
    TipFilter,
    TipRepository,
    TipSlice,
)
from app.infra.db import raw
from app.infra.db.media_repo import SqlMediaRepository
from app.infra.db.scoping import station_scope
from app.infra.db.sync_repo import record_tip_changes
from app.infra.db.tables.appeals import appeal_clues
from app.infra.db.tables.identity import account_roles
from app.infra.db.tables.organisation import org_units
from app.infra.db.tables.tips import (
    tip_events,
    tip_feedback_templates,
    tip_informants,
    tip_submissions,
    tips,
)
from app.infra.db.uow import SqlUnitOfWork

t = tips
i = tip_informants
e = tip_events

ACCOUNT_CONTEXT = "tip_informant.account"
CONTACT_CONTEXT = "tip_informant.contact"


def _as_geometry(column: Any) -> Any:
    return sa.cast(column, Geometry(srid=4326))


_COLUMNS = (
    *(c for c in t.c if c.name not in ("location", "submitter_digest")),
    sa.func.ST_X(_as_geometry(t.c.location), type_=sa.Float).label("lon"),
    sa.func.ST_Y(_as_geometry(t.c.location), type_=sa.Float).label("lat"),
)


# Stored codes to enum members by dictionary (a page maps hundreds of them; calling the
# enum class for each costs several times more).
_CATEGORY: dict[str, Category] = {c.value: c for c in Category}
_URGENCY: dict[str, Urgency] = {u.value: u for u in Urgency}
_STATUS: dict[str, TipStatus] = {s.value: s for s in TipStatus}
_OUTCOME: dict[str, Outcome] = {o.value: o for o in Outcome}


def _tip(row: Any) -> Tip:
    """From a page record (asyncpg) or a SQLAlchemy row's ``_mapping``. The entity's
    fields are passed in their declared order, not by name: a page builds dozens of
    these, and a call with 18 keyword arguments costs three times as much."""
    outcome = row["outcome"]
    return Tip(
        row["id"],
        _CATEGORY[row["category"]],
        row["description"],
        GeoPoint.stored(row["lon"], row["lat"]),
        _URGENCY[row["urgency"]],
        row["anonymous"],
        Routing(row["district_id"], row["station_id"], row["community_id"], row["grid_id"]),
        row["submitted_at"],
        tuple(row["media_ids"] or ()),
        _STATUS[row["status"]],
        row["assignee_id"],
        row["due_at"],
        _OUTCOME[outcome] if outcome else None,
        row["duplicate_of"],
        row["referred_to"],
        row["disputes"],
        row["version"],
        row["updated_at"],
    )


def _event_row(ev: TipEvent) -> dict[str, Any]:
    return {
        "id": ev.id,
        "tip_id": ev.tip_id,
        "kind": ev.kind.value,
        "at": ev.at,
        "from_status": ev.from_status.value if ev.from_status else None,
        "to_status": ev.to_status.value,
        "by_account": ev.by,
        "detail": ev.detail,
        "feedback": ev.feedback,
        "feedback_zh": ev.feedback_zh,
        "feedback_en": ev.feedback_en,
    }


def _event_json(ev: TipEvent) -> dict[str, Any]:
    row = _event_row(ev)
    return {
        **row,
        "id": str(ev.id),
        "tip_id": str(ev.tip_id),
        "at": ev.at.isoformat(),
        "by_account": str(ev.by) if ev.by else None,
    }


# A submission is one round trip: the tip, the sealed informant (named tips), the history
# rows and the reporter's sync-feed entry are written by one statement, and nothing at all
# when the id exists (a retry). Built once: it runs on every submission.
# ``tip_writes(gate)``: those writes as CTEs (``new_tip`` first) over parameters $1–$21
# from ``tip_write_args``; ``gate`` may make the tip's row conditional ("FROM go": written
# only when the CTE ``go`` has a row).
_TIP_WRITES = """
    new_tip AS (
        INSERT INTO tips (id, category, description, location, urgency, anonymous,
                          district_id, station_id, community_id, grid_id, media_ids, status,
                          submitter_digest, submitted_at)
        SELECT $1::uuid, $2::text, $3::text,
               ST_SetSRID(ST_MakePoint($4::float8, $5::float8), 4326)::geography,
               $6::text, $7::bool, $8::uuid, $9::uuid, $10::uuid, $11::uuid, $12::uuid[],
               $13::text, $14::bytea, $15::timestamptz {gate}
        ON CONFLICT (id) DO NOTHING
        RETURNING id
    ), informant AS (
        INSERT INTO tip_informants (tip_id, reporter_bidx, account_key_id, account_sealed,
                                    contact_key_id, contact_sealed)
        SELECT id, $16::bytea, $17::text, $18::bytea, $19::text, $20::bytea
        FROM new_tip WHERE $16::bytea IS NOT NULL
    ), history AS (
        INSERT INTO tip_events (id, tip_id, kind, at, from_status, to_status, by_account,
                                detail, feedback, feedback_zh, feedback_en)
        SELECT ev.id, ev.tip_id, ev.kind, ev.at, ev.from_status, ev.to_status, ev.by_account,
               coalesce(ev.detail, '{}'::jsonb), ev.feedback, ev.feedback_zh, ev.feedback_en
        FROM jsonb_populate_recordset(NULL::tip_events, $21::jsonb) AS ev
        WHERE EXISTS (SELECT 1 FROM new_tip)
    ), feed AS (
        INSERT INTO change_log (feed, record_type, record_id, op)
        SELECT $16::bytea, 'tip', id, 'upsert' FROM new_tip WHERE $16::bytea IS NOT NULL
    )"""


def tip_writes(gate: str = "") -> str:
    return _TIP_WRITES.replace("{gate}", gate)


_INSERT_TIP = "WITH " + tip_writes() + " SELECT id FROM new_tip"  # noqa: S608 - constants


def reporter_key(indexer: BlindIndexer, account_id: uuid.UUID) -> bytes:
    return indexer.index(str(account_id), purpose="tip.reporter")


def submitter_digest(indexer: BlindIndexer, account_id: uuid.UUID, tip_id: uuid.UUID) -> bytes:
    return indexer.index(f"{account_id}:{tip_id}", purpose="tip.submitter")


def rate_key(indexer: BlindIndexer, account_id: uuid.UUID) -> bytes:
    return indexer.index(str(account_id), purpose="tip.rate")


def tip_write_args(
    tip: Tip,
    informant: Informant | None,
    submitter: uuid.UUID,
    cipher: FieldCipher,
    indexer: BlindIndexer,
) -> list[Any]:
    """Parameters $1–$21 of ``tip_writes``: the tip, its informant sealed (AES-GCM) with a
    blind index of the account, the submitter's digest bound to the tip id, the history."""
    r = tip.routing
    account = contact = None
    if informant is not None:
        account = cipher.seal(str(informant.account_id), context=ACCOUNT_CONTEXT)
        if informant.contact_phone:
            contact = cipher.seal(informant.contact_phone, context=CONTACT_CONTEXT)
    return [
        tip.id,
        tip.category.value,
        tip.description,
        tip.location.lon,
        tip.location.lat,
        tip.urgency.value,
        tip.anonymous,
        r.district_id,
        r.station_id,
        r.community_id,
        r.grid_id,
        list(tip.media_ids),
        tip.status.value,
        submitter_digest(indexer, submitter, tip.id),
        tip.submitted_at,
        reporter_key(indexer, informant.account_id) if informant is not None else None,
        account.key_id if account else None,
        account.ciphertext if account else None,
        contact.key_id if contact else None,
        contact.ciphertext if contact else None,
        orjson.dumps([_event_json(ev) for ev in tip.pending]).decode(),
    ]


# The columns of a page row, in order (``_tip`` reads them by name).
_PAGE_COLUMNS = ", ".join(
    [
        *(f"t.{c.name}" for c in t.c if c.name not in ("location", "submitter_digest")),
        "ST_X(t.location::geometry) AS lon",
        "ST_Y(t.location::geometry) AS lat",
    ]
)
# A page's feedback entries ride along with the page (one statement): per tip, its
# history entries that carried feedback to the reporter, oldest first, as JSON.
_PAGE_FEEDBACK = """
    (SELECT json_agg(json_build_object(
                'id', fe.id, 'kind', fe.kind, 'at', fe.at, 'from_status', fe.from_status,
                'to_status', fe.to_status, 'by', fe.by_account, 'detail', fe.detail,
                'feedback', fe.feedback, 'feedback_zh', fe.feedback_zh,
                'feedback_en', fe.feedback_en) ORDER BY fe.id)
     FROM tip_events fe WHERE fe.tip_id = t.id AND fe.feedback IS NOT NULL) AS feedback_json"""
_FILTER_SQL = {
    "status": "t.status = {}",
    "category": "t.category = {}",
    "urgency": "t.urgency = {}",
    "grid_id": "t.grid_id = {}",
    "overdue_at": (
        "t.status IN (" + ", ".join(f"'{s.value}'" for s in OPEN_WORK) + ") AND t.due_at < {}"
    ),
    "appeal_id": "t.id IN (SELECT tip_id FROM appeal_clues WHERE appeal_id = {})",
}


def _event_of_json(tip_id: uuid.UUID, j: dict[str, Any]) -> TipEvent:
    return TipEvent(
        id=uuid.UUID(j["id"]),
        tip_id=tip_id,
        kind=EventKind(j["kind"]),
        at=datetime.fromisoformat(j["at"]),
        from_status=TipStatus(j["from_status"]) if j["from_status"] else None,
        to_status=TipStatus(j["to_status"]),
        by=uuid.UUID(j["by"]) if j["by"] else None,
        detail=j["detail"] or {},
        feedback=j["feedback"],
        feedback_zh=j["feedback_zh"],
        feedback_en=j["feedback_en"],
    )


class _Shape(NamedTuple):
    """What a page statement looks like, apart from its bound values."""

    unrestricted: bool
    stations: int  # how many stations the scope names (one placeholder each)
    districts: int
    reporter: bool
    filters: tuple[str, ...]
    after: bool
    with_feedback: bool
    # The page's row count (limit + 1) as a literal: with ``LIMIT $n`` PostgreSQL cannot
    # cost the generic plan of a prepared statement and plans every execution anew (0.4 ms
    # of its CPU per page); with a literal it settles on the generic plan after five runs.
    # Page sizes are few (1 to 201), so are the statements.
    rows: int = 0


@functools.lru_cache(maxsize=512)
def _page_sql(shape: _Shape) -> str:
    """A queue or reporter page as SQL text with ``$n`` placeholders, in this order: the
    reporter key or the scope's stations then districts, the filters in ``shape.filters``
    order, ``after``; the row count is written in. Built once per shape; run on the
    driver connection (app/infra/db/raw.py). Stations are listed one placeholder each,
    not as an array: ``station_id = ANY($1)`` makes PostgreSQL sort every tip of the station, while
    ``station_id = $1`` (or ``IN``) walks the (station_id, id) index backwards."""
    n = 0

    def arg() -> str:
        nonlocal n
        n += 1
        return f"${n}"

    where: list[str] = []
    if shape.reporter:
        mine = "SELECT tip_id FROM tip_informants WHERE reporter_bidx = "
        where.append(f"t.id IN ({mine}{arg()})")
    elif not shape.unrestricted:
        reach: list[str] = []
        if shape.stations:
            reach.append(f"t.station_id IN ({', '.join(arg() for _ in range(shape.stations))})")
        if shape.districts:
            listed = ", ".join(arg() for _ in range(shape.districts))
            reach.append(f"(t.station_id IS NULL AND t.district_id IN ({listed}))")
        where.append(f"({' OR '.join(reach)})" if reach else "false")
    where.extend(_FILTER_SQL[name].format(arg()) for name in shape.filters)
    if shape.after:
        where.append(f"t.id < {arg()}")
    columns = _PAGE_COLUMNS + ("," + _PAGE_FEEDBACK if shape.with_feedback else "")
    condition = " AND ".join(where) if where else "true"
    # Only constants, $n placeholders and the validated integer row count.
    rows = int(shape.rows)
    return f"SELECT {columns} FROM tips t WHERE {condition} ORDER BY t.id DESC LIMIT {rows}"  # noqa: S608


def _events(rows: Any) -> list[TipEvent]:
    return [
        TipEvent(
            id=r.id,
            tip_id=r.tip_id,
            kind=EventKind(r.kind),
            at=r.at,
            from_status=TipStatus(r.from_status) if r.from_status else None,
            to_status=TipStatus(r.to_status),
            by=r.by_account,
            detail=dict(r.detail or {}),
            feedback=r.feedback,
            feedback_zh=r.feedback_zh,
            feedback_en=r.feedback_en,
        )
        for r in rows
    ]


class SqlTipRepository:
    def __init__(
        self, session: AsyncSession, scope: Scope, cipher: FieldCipher, indexer: BlindIndexer
    ) -> None:
        self.session = session
        self.scope = scope
        self.cipher = cipher
        self.indexer = indexer

    def _reporter_key(self, account_id: uuid.UUID) -> bytes:
        return reporter_key(self.indexer, account_id)

    def _digest(self, account_id: uuid.UUID, tip_id: uuid.UUID) -> bytes:
        return submitter_digest(self.indexer, account_id, tip_id)

    def _own(self, account_id: uuid.UUID) -> sa.ColumnElement[bool]:
        mine = sa.select(i.c.tip_id).where(i.c.reporter_bidx == self._reporter_key(account_id))
        return t.c.id.in_(mine)

    def _visible(self) -> sa.ColumnElement[bool]:
        in_scope = station_scope(t.c.station_id, t.c.district_id, self.scope)
        return sa.or_(in_scope, self._own(self.scope.account_id))

    async def insert(self, tip: Tip, *, informant: Informant | None, submitter: uuid.UUID) -> bool:
        """One statement (see ``_INSERT_TIP``): the tip, its sealed informant, its pending
        history and the reporter's change-feed entry, or nothing when the id is taken."""
        stored = await raw.fetchval(
            self.session,
            _INSERT_TIP,
            *tip_write_args(tip, informant, submitter, self.cipher, self.indexer),
        )
        if stored is None:
            return False
        tip.pending.clear()
        return True

    async def _flush_events(self, tip: Tip) -> None:
        if tip.pending:
            await self.session.execute(sa.insert(e), [_event_row(ev) for ev in tip.pending])
            tip.pending.clear()

    async def submitted_by(self, tip_id: uuid.UUID, account_id: uuid.UUID) -> Tip | None:
        query = sa.select(*_COLUMNS).where(
            t.c.id == tip_id, t.c.submitter_digest == self._digest(account_id, tip_id)
        )
        row = (await self.session.execute(query)).one_or_none()
        return _tip(row._mapping) if row else None

    async def get(self, tip_id: uuid.UUID, *, for_update: bool = False) -> Tip | None:
        query = sa.select(*_COLUMNS).where(t.c.id == tip_id, self._visible())
        if for_update:
            query = query.with_for_update(of=t)
        row = (await self.session.execute(query)).one_or_none()
        return _tip(row._mapping) if row else None

    async def exists(self, tip_id: uuid.UUID) -> bool:
        query = sa.select(t.c.id).where(t.c.id == tip_id, self._visible())
        return (await self.session.execute(query)).first() is not None

    async def is_reporter(self, tip_id: uuid.UUID, account_id: uuid.UUID) -> bool:
        query = sa.select(i.c.tip_id).where(
            i.c.tip_id == tip_id, i.c.reporter_bidx == self._reporter_key(account_id)
        )
        return (await self.session.execute(query)).first() is not None

    async def link_appeal(self, tip_id: uuid.UUID, appeal_id: uuid.UUID) -> None:
        await self.session.execute(
            sa.insert(appeal_clues).values(tip_id=tip_id, appeal_id=appeal_id)
        )

    async def save(self, tip: Tip, *, expected_version: int | None) -> None:
        version = expected_version if expected_version is not None else tip.version
        result = await self.session.execute(
            sa.update(t)
            .where(t.c.id == tip.id, t.c.version == version)
            .values(
                # Routing changes only on a referral to another station (re-routing).
                district_id=tip.routing.district_id,
                station_id=tip.routing.station_id,
                status=tip.status.value,
                assignee_id=tip.assignee_id,
                due_at=tip.due_at,
                outcome=tip.outcome.value if tip.outcome else None,
                duplicate_of=tip.duplicate_of,
                referred_to=tip.referred_to,
                disputes=tip.disputes,
                version=t.c.version + 1,
                updated_at=sa.func.now(),
            )
            .returning(t.c.version)
        )
        new_version = result.scalar_one_or_none()
        if new_version is None:
            raise StaleVersion()
        tip.version = new_version
        await self._flush_events(tip)
        await record_tip_changes(self.session, [tip.id])

    async def events(self, tip_id: uuid.UUID) -> list[TipEvent]:
        return (await self.events_of([tip_id])).get(tip_id, [])

    async def events_of(self, tip_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[TipEvent]]:
        rows = await self.session.execute(
            sa.select(e).where(e.c.tip_id.in_(list(tip_ids))).order_by(e.c.id)
        )
        found: dict[uuid.UUID, list[TipEvent]] = {}
        for ev in _events(rows):
            found.setdefault(ev.tip_id, []).append(ev)
        return found

    async def own_by_ids(self, account_id: uuid.UUID, tip_ids: Sequence[uuid.UUID]) -> list[Tip]:
        query = sa.select(*_COLUMNS).where(t.c.id.in_(list(tip_ids)), self._own(account_id))
        return [_tip(r._mapping) for r in await self.session.execute(query)]

    async def _slice(
        self, shape: _Shape, args: list[Any], limit: int, after: uuid.UUID | None
    ) -> TipSlice:
        if after is not None:
            args.append(after)
        sql = _page_sql(shape._replace(after=after is not None, rows=limit + 1))
        rows = await raw.fetch(self.session, sql, *args)
        more = len(rows) > limit
        rows = rows[:limit]
        feedback = (
            {
                r["id"]: [_event_of_json(r["id"], j) for j in entries]
                for r in rows
                if (entries := r["feedback_json"])
            }
            if shape.with_feedback
            else None
        )
        return TipSlice([_tip(r) for r in rows], more, feedback)

    def _scope_args(self) -> tuple[tuple[bool, int, int], list[Any]]:
        s = self.scope
        if s.unrestricted:
            return (True, 0, 0), []
        stations, districts = sorted(s.station_ids), sorted(s.district_ids)
        return (False, len(stations), len(districts)), [*stations, *districts]

    async def page(
        self,
        where: TipFilter,
        *,
        limit: int,
        after: uuid.UUID | None,
        with_feedback: bool = False,
    ) -> TipSlice:
        values: dict[str, Any] = {
            "status": where.status.value if where.status is not None else None,
            "category": where.category.value if where.category is not None else None,
            "urgency": where.urgency.value if where.urgency is not None else None,
            "grid_id": where.grid_id,
            "overdue_at": where.overdue_at,
            "appeal_id": where.appeal_id,
        }
        filters = tuple(k for k, v in values.items() if v is not None)
        reach, args = self._scope_args()
        shape = _Shape(
            *reach, reporter=False, filters=filters, after=False, with_feedback=with_feedback
        )
        args.extend(values[k] for k in filters)
        return await self._slice(shape, args, limit, after)

    async def of_reporter(
        self,
        account_id: uuid.UUID,
        *,
        limit: int,
        after: uuid.UUID | None,
        with_feedback: bool = False,
    ) -> TipSlice:
        shape = _Shape(False, 0, 0, True, (), False, with_feedback)
        return await self._slice(shape, [self._reporter_key(account_id)], limit, after)

    async def counts(self) -> dict[TipStatus, int]:
        rows = await self.session.execute(
            sa.select(t.c.status, sa.func.count())
            .where(station_scope(t.c.station_id, t.c.district_id, self.scope))
            .group_by(t.c.status)
        )
        return {TipStatus(status): int(n) for status, n in rows}

    async def informant(self, tip_id: uuid.UUID) -> Informant | None:
        row = (await self.session.execute(sa.select(i).where(i.c.tip_id == tip_id))).one_or_none()
        if row is None:
            return None
        account = self.cipher.open(
            Sealed(row.account_key_id, row.account_sealed), context=ACCOUNT_CONTEXT
        )
        contact = (
            self.cipher.open(
                Sealed(row.contact_key_id, row.contact_sealed), context=CONTACT_CONTEXT
            )
            if row.contact_sealed is not None
            else None
        )
        return Informant(uuid.UUID(account), contact)


class SqlSubmissionLog:
    def __init__(self, session: AsyncSession, indexer: BlindIndexer) -> None:
        self.session = session
        self.indexer = indexer

    def _key(self, account_id: uuid.UUID) -> bytes:
        return rate_key(self.indexer, account_id)

    async def record(
        self, account_id: uuid.UUID, at: datetime, *, window_start: datetime
    ) -> Sequence[datetime]:
        rows = await raw.fetch(
            self.session, _RECORD_SUBMISSION, new_id(), self._key(account_id), at, window_start
        )
        return [r["at"] for r in rows]


# The new entry and the earlier ones in the window in one round trip (the SELECT does not
# see the row its own statement inserts).
_RECORD_SUBMISSION = """
    WITH logged AS (
        INSERT INTO tip_submissions (id, submitter_bidx, at) VALUES ($1, $2, $3)
    )
    SELECT at FROM tip_submissions WHERE submitter_bidx = $2 AND at > $4
"""


class SqlOfficerRoster:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_officer_of(
        self, account_id: uuid.UUID, station_id: uuid.UUID | None, district_id: uuid.UUID
    ) -> bool:
        ar, u = account_roles, org_units
        if station_id is not None:
            units = sa.select(u.c.id).where(
                sa.or_(u.c.id == station_id, u.c.station_id == station_id)
            )
            where = sa.and_(ar.c.role == "officer", ar.c.unit_id.in_(units))
        else:
            units = sa.select(u.c.id).where(
                sa.or_(u.c.id == district_id, u.c.district_id == district_id)
            )
            where = sa.and_(ar.c.role.in_(("officer", "district_admin")), ar.c.unit_id.in_(units))
        query = sa.select(ar.c.id).where(ar.c.account_id == account_id, where).limit(1)
        return (await self.session.execute(query)).first() is not None


class SqlStationDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def station(self, station_id: uuid.UUID) -> StationRef | None:
        u = org_units
        row = (
            await self.session.execute(
                sa.select(u.c.id, u.c.district_id).where(
                    u.c.id == station_id, u.c.level == "station"
                )
            )
        ).one_or_none()
        return StationRef(row.id, row.district_id) if row and row.district_id else None


class SqlFeedbackTemplates:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_station(self, station_id: uuid.UUID) -> list[FeedbackTemplate]:
        ft = tip_feedback_templates
        rows = await self.session.execute(
            sa.select(ft).where(ft.c.station_id == station_id).order_by(ft.c.code)
        )
        return [FeedbackTemplate(r.code, r.outcome, r.text_zh, r.text_en) for r in rows]

    async def save(self, station_id: uuid.UUID, template: FeedbackTemplate) -> None:
        ft = tip_feedback_templates
        values = {
            "outcome": template.outcome,
            "text_zh": template.text_zh,
            "text_en": template.text_en,
        }
        stmt = pg_insert(ft).values(
            id=new_id(), station_id=station_id, code=template.code, **values
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[ft.c.station_id, ft.c.code],
                set_={**values, "version": ft.c.version + 1, "updated_at": sa.func.now()},
            )
        )


class SqlTipsUnitOfWork(SqlUnitOfWork):
    tips: TipRepository
    templates: FeedbackTemplateStore
    submissions: SubmissionLog
    roster: OfficerRoster
    stations: StationDirectory
    media: MediaRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        scope: Scope,
        clock: Clock,
        cipher: FieldCipher,
        indexer: BlindIndexer,
    ) -> None:
        super().__init__(session_factory, scope, clock)
        self._cipher = cipher
        self._indexer = indexer

    def _open_repositories(self) -> None:
        s = self.session
        self.tips = SqlTipRepository(s, self.scope, self._cipher, self._indexer)
        self.submissions = SqlSubmissionLog(s, self._indexer)
        self.roster = SqlOfficerRoster(s)
        self.templates = SqlFeedbackTemplates(s)
        self.stations = SqlStationDirectory(s)
        # On the same session: media are attached inside the tip's own transaction.
        self.media = SqlMediaRepository(s)


async def purge_submission_log(
    session_factory: async_sessionmaker[AsyncSession], before: datetime
) -> int:
    """Forget submissions older than ``before``: past the rate-limit window they serve no
    purpose, and keeping the times of anonymous submissions would only help tracing."""
    async with session_factory() as session:
        result = await session.execute(
            sa.delete(tip_submissions).where(tip_submissions.c.at < before)
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
