"""Races on sign-in state: parallel guesses at one code share its five attempts, and a
code verified twice at once signs in once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import client_from, last_code_for, random_phone

from app.bootstrap.identity import blind_indexer
from app.infra.db.tables.identity import otp_challenges
from app.settings import Settings

OTP = "/api/v1/auth/otp"
VERIFY = "/api/v1/auth/otp/verify"


async def _parallel(client: httpx.AsyncClient, bodies: list[dict[str, str]]) -> list[int]:
    clients = [client_from(client) for _ in bodies]
    try:
        answers = await asyncio.gather(
            *(c.post(VERIFY, json=b) for c, b in zip(clients, bodies, strict=True))
        )
    finally:
        for c in clients:
            await c.aclose()
    return [a.status_code for a in answers]


async def test_parallel_wrong_codes_spend_at_most_five_attempts(
    client: httpx.AsyncClient,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    phone = random_phone()
    async with client_from(client) as own:
        assert (await own.post(OTP, json={"phone": phone})).status_code == 202
    code = last_code_for(Path(settings.sms_dev_outbox), phone)
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 13)]
    statuses = await _parallel(client, [{"phone": phone, "code": w} for w in wrong])
    assert statuses == [401] * 12
    # The right code after the fifth wrong one is refused: the challenge is exhausted.
    assert await _parallel(client, [{"phone": phone, "code": code}]) == [401]
    index = blind_indexer(settings).index(phone, purpose="phone")
    async with session_factory() as s:
        row = (
            await s.execute(
                sa.select(otp_challenges.c.attempts, otp_challenges.c.closed_reason).where(
                    otp_challenges.c.phone_index == index
                )
            )
        ).one()
    assert (row.attempts, row.closed_reason) == (5, "exhausted")


async def test_one_code_verified_twice_at_once_signs_in_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    phone = random_phone()
    async with client_from(client) as own:
        assert (await own.post(OTP, json={"phone": phone})).status_code == 202
    code = last_code_for(Path(settings.sms_dev_outbox), phone)
    statuses = await _parallel(client, [{"phone": phone, "code": code}] * 3)
    assert sorted(statuses) == [200, 401, 401]
