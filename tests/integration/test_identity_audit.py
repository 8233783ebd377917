"""Audit entries of the identity context carry ids and codes, never names: officer
usernames are usually the officer's name in pinyin (wang.jun = 王军)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import DEFAULT_PASSWORD
from support.org import make_org_tree

from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.shared.scope import system_scope
from app.infra.db.tables.platform import audit_log


async def test_officer_creation_audit_names_no_username(
    app: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    tree = await make_org_tree(app)
    username = f"wang.jun.{uuid.uuid4().hex[:8]}"
    view = await app.state.services.get(OfficerService).create_officer(
        system_scope(),
        NewOfficer(username, DEFAULT_PASSWORD, tree.station_code, "officer", display_name="王军"),
    )
    async with session_factory() as s:
        details = (
            (
                await s.execute(
                    sa.select(audit_log.c.detail).where(
                        audit_log.c.record_id == view.id, audit_log.c.action == "officer.created"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert details == [{"role": "officer", "unit_id": str(view.roles[0].unit_id)}]
    assert username not in str(details)
