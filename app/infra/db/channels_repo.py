"""Rows behind the outbound channels: grants and devices (the caller's own, through the
unit of work) and the per-key send ledgers the WeChat and push adapters claim inside
the transaction that spans their provider call."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.notifications.channels import ChannelsRepository, PushPlatform
from app.domain.shared.ids import new_id
from app.infra.db.tables.channels import (
    push_devices,
    push_sends,
    wechat_sends,
    wechat_subscription_grants,
)
from app.infra.db.tables.identity import wechat_identities
from app.infra.db.uow import SqlUnitOfWork

grants = wechat_subscription_grants


class SqlChannelsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_grant(self, account_id: uuid.UUID, template_id: str, cap: int) -> int:
        new = insert(grants).values(account_id=account_id, template_id=template_id, remaining=1)
        stmt = new.on_conflict_do_update(
            index_elements=[grants.c.account_id, grants.c.template_id],
            set_={
                "remaining": sa.func.least(grants.c.remaining + 1, cap),
                "updated_at": sa.func.now(),
            },
        ).returning(grants.c.remaining)
        return int((await self.session.execute(stmt)).scalar_one())

    async def clear_grant(self, account_id: uuid.UUID, template_id: str) -> None:
        await clear_grant(self.session, account_id, template_id)

    async def grants_of(self, account_id: uuid.UUID, template_ids: Sequence[str]) -> dict[str, int]:
        rows = await self.session.execute(
            sa.select(grants.c.template_id, grants.c.remaining).where(
                grants.c.account_id == account_id, grants.c.template_id.in_(template_ids)
            )
        )
        found = {r.template_id: int(r.remaining) for r in rows}
        return {t: found.get(t, 0) for t in template_ids}

    async def upsert_device(
        self, account_id: uuid.UUID, platform: PushPlatform, registration_id: str
    ) -> None:
        stmt = insert(push_devices).values(
            id=new_id(),
            account_id=account_id,
            platform=platform.value,
            registration_id=registration_id,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[push_devices.c.registration_id],
                set_={
                    "account_id": account_id,
                    "platform": platform.value,
                    "updated_at": sa.func.now(),
                },
            )
        )

    async def remove_device(self, account_id: uuid.UUID, registration_id: str) -> bool:
        result = await self.session.execute(
            sa.delete(push_devices).where(
                push_devices.c.account_id == account_id,
                push_devices.c.registration_id == registration_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlChannelsUnitOfWork(SqlUnitOfWork):
    channels: ChannelsRepository

    def _open_repositories(self) -> None:
        self.channels = SqlChannelsRepository(self.session)


# --- used by the adapters, inside the transaction around one provider call ------------


async def clear_grant(session: AsyncSession, account_id: uuid.UUID, template_id: str) -> None:
    await session.execute(
        sa.update(grants)
        .where(grants.c.account_id == account_id, grants.c.template_id == template_id)
        .values(remaining=0, updated_at=sa.func.now())
    )


async def claim_wechat_send(session: AsyncSession, key: str, template_id: str) -> str | None:
    """Claims (key, template) as sent; a concurrent claim waits for ours to commit. Returns
    None when claimed, else the outcome already recorded."""
    claimed = await session.execute(
        insert(wechat_sends)
        .values(key=key, template_id=template_id, outcome="sent")
        .on_conflict_do_nothing()
    )
    if claimed.rowcount:  # type: ignore[attr-defined]
        return None
    return str(
        await session.scalar(
            sa.select(wechat_sends.c.outcome).where(
                wechat_sends.c.key == key, wechat_sends.c.template_id == template_id
            )
        )
    )


async def settle_wechat_send(
    session: AsyncSession, key: str, template_id: str, outcome: str
) -> None:
    await session.execute(
        sa.update(wechat_sends)
        .where(wechat_sends.c.key == key, wechat_sends.c.template_id == template_id)
        .values(outcome=outcome)
    )


async def openid_of(session: AsyncSession, account_id: uuid.UUID, appid: str) -> str | None:
    found = await session.scalar(
        sa.select(wechat_identities.c.openid)
        .where(wechat_identities.c.account_id == account_id, wechat_identities.c.appid == appid)
        .order_by(wechat_identities.c.created_at.desc())
        .limit(1)
    )
    return found if isinstance(found, str) else None


async def consume_grant(session: AsyncSession, account_id: uuid.UUID, template_id: str) -> bool:
    result = await session.execute(
        sa.update(grants)
        .where(
            grants.c.account_id == account_id,
            grants.c.template_id == template_id,
            grants.c.remaining > 0,
        )
        .values(remaining=grants.c.remaining - 1, updated_at=sa.func.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim_push_send(session: AsyncSession, key: str) -> str | None:
    claimed = await session.execute(
        insert(push_sends).values(key=key, outcome="sent").on_conflict_do_nothing()
    )
    if claimed.rowcount:  # type: ignore[attr-defined]
        return None
    return str(await session.scalar(sa.select(push_sends.c.outcome).where(push_sends.c.key == key)))


async def settle_push_send(session: AsyncSession, key: str, outcome: str) -> None:
    await session.execute(
        sa.update(push_sends).where(push_sends.c.key == key).values(outcome=outcome)
    )


async def registration_ids_of(session: AsyncSession, account_id: uuid.UUID) -> list[str]:
    rows = await session.scalars(
        sa.select(push_devices.c.registration_id)
        .where(push_devices.c.account_id == account_id)
        .order_by(push_devices.c.updated_at.desc())
        .limit(1000)  # JPush accepts at most 1000 registration ids per push
    )
    return list(rows)
