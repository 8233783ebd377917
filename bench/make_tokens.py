"""Bench helper for bench/bench_tips.sh: resident accounts and access tokens without OTP.

Sign-in by OTP is rate-limited per IP (10/day) and per phone, and tips are limited to
10 per account per hour with no setting to lift it, so the POST benchmark round-robins over
many residents. They are created through the project's own repositories, the same rows
the OTP sign-in writes (accounts, account_roles 'resident', account_phones with the
phone blind index and sealed number, an auth_sessions row), and their access tokens are
minted by the project's JwtAccessTokens with the server's settings.

Then ``--seed-tips`` named tips of resident 0 are submitted through the project's
TipService (in this process only, its hourly limit is lifted) inside 湖塘, so the station
queue and resident 0's /me/tips have full pages.

Writes OUT_DIR/tokens.txt (one token a line; line 1 = resident 0) and OUT_DIR/env
(BENCH_STATION_ID, BENCH_REPORTER_BIDX, BENCH_REPORTER_ID for the baseline).

With ``--photos-per-resident K`` every resident also uploads K small photos through the
project's MediaService (the same pipeline as ``POST /api/v1/media``: sniffed, re-encoded,
EXIF stripped, thumbnailed) and OUT_DIR/hazards.txt gets one "token media_id" line per
photo, interleaved across residents (a hazard needs a photo of its own reporter, and a
photo is attached to one record only).

  uv run python bench/make_tokens.py --residents 1500 --seed-tips 200 --out /tmp/dir
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import uuid
from pathlib import Path

import sqlalchemy as sa
from PIL import Image

from app.api.container import Services
from app.bootstrap import wiring
from app.bootstrap.identity import access_tokens, blind_indexer, field_cipher
from app.bootstrap.platform import build_platform, wire_platform
from app.domain.identity.model import Account, AccountKind, SignInMethod
from app.domain.identity.services import PHONE_CONTEXT, PHONE_PURPOSE
from app.domain.identity.sessions import AuthSession
from app.domain.media.services import MediaService
from app.domain.shared.auth import Authenticator
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role
from app.domain.tips.model import Category
from app.domain.tips.services import NewTip, TipService
from app.infra.db.identity_auth_repo import SqlSessionRepository
from app.infra.db.identity_repo import SqlAccountRepository
from app.infra.db.tables.organisation import org_units
from app.settings import load_settings

DESCRIPTIONS = [
    "花园新村东门附近有可疑人员反复查看电动车，穿深色外套。",
    "湖塘商圈步行街一辆白色面包车长时间停放，车内有人张望。",
    "小区楼道里发现无人认领的包裹，已放置两天。",
    "有人在公交站散发疑似诈骗的投资传单。",
]


def _photo(n: int) -> bytes:
    image = Image.new("RGB", (320, 240), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


async def main(
    residents: int, seed_tips: int, out: Path, photos_per_resident: int = 0, first: int = 0
) -> None:
    settings = load_settings()
    platform = build_platform(settings)
    services = Services()
    wire_platform(services, platform)
    wiring.wire_contexts(services, platform)
    tokens_codec = access_tokens(settings)
    indexer = blind_indexer(settings)
    cipher = field_cipher(settings)
    now = platform.clock.now()
    tokens: list[str] = []
    accounts: list[uuid.UUID] = []
    try:
        batch = 250
        for start in range(0, residents, batch):
            async with platform.session_factory() as session:
                repo = SqlAccountRepository(session)
                sessions = SqlSessionRepository(session)
                for n in range(start, min(start + batch, residents)):
                    phone = f"1390{first + n:07d}"
                    account = Account.new(
                        AccountKind.RESIDENT, now, account_id=new_id(), display_name=None
                    )
                    await repo.add(account)
                    await repo.add_role(account.id, Role.RESIDENT, None, granted_by=account.id)
                    await repo.add_phone(
                        account.id,
                        indexer.index(phone, purpose=PHONE_PURPOSE),
                        cipher.seal(phone, context=PHONE_CONTEXT),
                    )
                    sid = new_id()
                    await sessions.add_session(
                        AuthSession(sid, account.id, SignInMethod.OTP, now, "bench")
                    )
                    accounts.append(account.id)
                    tokens.append(tokens_codec.issue(account.id, sid, now))
                await session.commit()

        # Full pages: resident 0's named tips, routed into 湖塘 (320412-HT).
        tips = services.get(TipService)
        tips.hourly_limit = 10**9  # this helper process only; the server keeps its limit
        scope = await services.get_any(Authenticator).authenticate(tokens[0], request_id=None)
        rnd = random.Random(7)
        for n in range(seed_tips):
            await tips.submit(
                scope,
                NewTip(
                    category=Category.SUSPICIOUS_PERSON if n % 2 else Category.THEFT,
                    description=DESCRIPTIONS[n % len(DESCRIPTIONS)],
                    location=GeoPoint(
                        119.84 + rnd.uniform(-0.01, 0.01), 31.73 + rnd.uniform(-0.01, 0.01)
                    ),
                ),
            )
        hazard_lines: list[str] = []
        if photos_per_resident:
            media = services.get(MediaService)
            authenticator = services.get_any(Authenticator)
            per_resident: list[list[str]] = []
            for n, token in enumerate(tokens[1:], start=1):
                who = await authenticator.authenticate(token, request_id=None)
                ids = [
                    str((await media.upload(who, _photo(n * 10 + k))).media.id)
                    for k in range(photos_per_resident)
                ]
                per_resident.append([f"{token} {i}" for i in ids])
            for k in range(photos_per_resident):
                hazard_lines += [lines[k] for lines in per_resident]
        async with platform.session_factory() as session:
            station_id = (
                await session.execute(
                    sa.select(org_units.c.id).where(org_units.c.code == "320412-HT")
                )
            ).scalar_one()
    finally:
        await platform.aclose()
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokens.txt").write_text("\n".join(tokens) + "\n")
    if hazard_lines:
        (out / "hazards.txt").write_text("\n".join(hazard_lines) + "\n")
    reporter = indexer.index(str(accounts[0]), purpose="tip.reporter")
    (out / "env").write_text(
        f"BENCH_STATION_ID={station_id}\nBENCH_REPORTER_BIDX={reporter.hex()}\n"
        f"BENCH_REPORTER_ID={accounts[0]}\n"
    )
    print(f"{len(tokens)} residents, {seed_tips} tips of resident 0, station {station_id}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--residents", type=int, default=1500)
    p.add_argument("--seed-tips", type=int, default=200)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--photos-per-resident", type=int, default=0)
    p.add_argument(
        "--first", type=int, default=0, help="number of the first resident (phone 1390…)"
    )
    a = p.parse_args()
    asyncio.run(main(a.residents, a.seed_tips, a.out, a.photos_per_resident, a.first))
