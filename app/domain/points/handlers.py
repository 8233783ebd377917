"""Outbox handlers that credit and reverse points.

- ``tip.outcome_recorded``: outcome valid → the named reporter earns the district's
  ``tip_valid`` points (anonymous tips earn nothing); outcome unfounded → credits of the
  tip are reversed.
- ``tip.disputed``: the outcome no longer stands → credits of the tip are reversed.
- ``hazard.verified`` (emitted by the hazards context; payload hazard_id, station_id,
  district_id, category, outcome): outcome ``real`` → the reporter(s) chosen by the
  district's merge policy (``earners``) earn ``hazard_verified`` points; ``not_hazard``
  reverses earlier credits of the hazard; ``duplicate`` earns nothing itself (its
  reporters follow the survivor). Reporters come from the
  ``HazardReporters`` port, looked up when the event is handled.

A redelivered event credits nothing twice (the ledger's unique index) and notifies
nobody twice (the notification key).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from app.domain.delivery.model import OutboxEvent
from app.domain.notifications.model import Kind, link_to
from app.domain.notifications.services import NotificationService
from app.domain.points.model import RuleCode, SourceType, earners
from app.domain.points.ports import HazardReporters, PointsUnitOfWork, TipSources
from app.domain.points.services import Credit, PointsService, current_rule
from app.domain.shared.scope import Scope, system_scope

HAZARD_REAL = frozenset({"real"})
HAZARD_FALSE = frozenset({"not_hazard"})


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


class PointsHandlers:
    def __init__(
        self,
        points: PointsService,
        uow_factory: Callable[[Scope], PointsUnitOfWork],
        tips: TipSources,
        hazards: Callable[[], HazardReporters],
        notifications: NotificationService,
    ) -> None:
        self.points = points
        self.uow_factory = uow_factory
        self.tips = tips
        self.hazards = hazards
        self.notifications = notifications

    async def _credit(self, credit: Credit, key: str) -> None:
        entry, _ = await self.points.credit(credit)
        if entry is None:
            return
        # Notified also when the credit existed (a redelivery after a crash between the
        # two): the key makes it once.
        await self.notifications.notify(
            entry.account_id,
            Kind.POINTS_CREDITED,
            link_to("points", entry.id),
            key=f"{key}:{entry.account_id}",
        )

    async def tip_outcome(self, event: OutboxEvent, key: str) -> None:
        outcome = event.payload.get("outcome")
        tip_id = event.aggregate_id
        if outcome == "unfounded":
            await self.points.reverse_source(SourceType.TIP, tip_id, "tip_unfounded")
            return
        if outcome != "valid":
            return
        source = await self.tips.tip(tip_id)
        if source is None or not source.reports:
            return  # anonymous, or gone
        reporter = source.reports[0].account_id
        if reporter is None:
            return
        grade = event.payload.get("grade")
        await self._credit(
            Credit(
                account_id=reporter,
                source_type=SourceType.TIP,
                source_id=tip_id,
                code=RuleCode.TIP_VALID,
                station_id=source.station_id,
                district_id=source.district_id,
                grade=str(grade) if grade else None,
            ),
            key,
        )

    async def tip_disputed(self, event: OutboxEvent, key: str) -> None:
        await self.points.reverse_source(SourceType.TIP, event.aggregate_id, "tip_disputed")

    async def hazard_verified(self, event: OutboxEvent, key: str) -> None:
        payload = event.payload
        hazard_id = _uuid(payload.get("hazard_id")) or event.aggregate_id
        outcome = str(payload.get("outcome", "real"))
        if outcome in HAZARD_FALSE:
            await self.points.reverse_source(SourceType.HAZARD, hazard_id, "hazard_not_real")
            return
        if outcome not in HAZARD_REAL:
            return  # duplicate: its reporters follow the survivor, which earns
        district_id = _uuid(payload.get("district_id"))
        if district_id is None:
            return
        station_id = _uuid(payload.get("station_id"))
        reports = await self.hazards().reporters(hazard_id)
        if not reports:
            return
        async with self.uow_factory(system_scope()) as uow:
            rule = await current_rule(uow, district_id, RuleCode.HAZARD_VERIFIED)
            await uow.commit()  # keeps the default's first version if it was just stored
        grade = payload.get("grade")
        amount = rule.amount_for(str(grade) if grade else None)
        for account, share in earners(reports, rule.merge_policy, amount):
            await self._credit(
                Credit(
                    account_id=account,
                    source_type=SourceType.HAZARD,
                    source_id=hazard_id,
                    code=RuleCode.HAZARD_VERIFIED,
                    station_id=station_id,
                    district_id=district_id,
                    amount=share,
                ),
                key,
            )
