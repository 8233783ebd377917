"""Ledger balance for an account with 10,000 entries (issue 4 §5: under 5 ms).

Builds a scratch database (dropped afterwards) with the migrations, appends 10,000
entries for one account (plus 100,000 for 1,000 other accounts, so the table is not
trivially small), then times over ``--n`` calls each:

- the balance the API reads (``SqlPointsRepository.balance``: one primary-key lookup of
  ``points_balances``, kept by the AFTER INSERT trigger in the entry's transaction);
- for comparison, SUM(amount) over the account's entries (an index-only scan of
  ``ix_points_entries_account_id_id`` which INCLUDEs amount), as an audit would run it;

and prints p50/p95 and both EXPLAIN (ANALYZE, BUFFERS) plans.
Run:  uv run python bench/bench_points.py [--entries 10000] [--n 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.bootstrap.database import drop_database, ensure_database, run_migrations
from app.domain.shared.clock import FixedClock
from app.domain.shared.scope import system_scope
from app.infra.db.engine import make_engine, make_session_factory
from app.infra.db.points_repo import SqlPointsUnitOfWork

BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
FILL = """
INSERT INTO points_entries (id, account_id, kind, amount, reason, source_type, source_id)
SELECT gen_random_uuid(), :account, 'credit', 1 + (n % 50), 'tip_valid', 'tip',
       gen_random_uuid()
FROM generate_series(1, :n) AS n
"""
SUM = "SELECT coalesce(sum(amount), 0) FROM points_entries WHERE account_id = :account"


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


async def main(entries: int, n: int) -> None:
    url = make_url(BASE).set(database=f"shouwang_bench_points_{uuid.uuid4().hex[:8]}")
    dsn = url.render_as_string(hide_password=False)
    await ensure_database(dsn)
    try:
        await asyncio.to_thread(run_migrations, dsn, "heads")
        engine = make_engine(dsn, pool_size=2)
        sf = make_session_factory(engine)
        account = uuid.uuid4()
        others = [uuid.uuid4() for _ in range(1000)]
        async with sf() as s, s.begin():
            for a in [account, *others]:
                await s.execute(
                    sa.text("INSERT INTO accounts (id, kind) VALUES (:a, 'resident')"), {"a": a}
                )
            started = time.perf_counter()
            await s.execute(sa.text(FILL), {"account": account, "n": entries})
            for other in others:
                await s.execute(sa.text(FILL), {"account": other, "n": 100})
            print(
                f"filled {entries + 100 * len(others)} entries"
                f" in {time.perf_counter() - started:.1f} s"
            )
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(sa.text("VACUUM ANALYZE points_entries"))
            await auto.execute(sa.text("VACUUM ANALYZE points_balances"))
        clock = FixedClock(datetime.now(UTC))
        async with SqlPointsUnitOfWork(sf, system_scope(), clock) as uow:
            for _ in range(50):  # warm-up
                await uow.points.balance(account)
            timings = []
            for _ in range(n):
                t = time.perf_counter()
                balance = await uow.points.balance(account)
                timings.append((time.perf_counter() - t) * 1000)
            sums = []
            for _ in range(n):
                t = time.perf_counter()
                total = (await uow.session.execute(sa.text(SUM), {"account": account})).scalar_one()
                sums.append((time.perf_counter() - t) * 1000)
            assert balance.balance == total, (balance, total)
            assert balance.entries == entries, balance
            p50, p95 = quantiles(timings)
            print(
                f"balance (points_balances, API path): {balance.balance}"
                f" over {balance.entries} entries"
            )
            print(f"  p50 {p50:.3f} ms  p95 {p95:.3f} ms  ({n} calls)")
            s50, s95 = quantiles(sums)
            print(f"SUM(amount) over the entries (index-only):  p50 {s50:.3f} ms  p95 {s95:.3f} ms")
            for label, query in (
                (
                    "balance",
                    "SELECT balance, entries FROM points_balances WHERE account_id = :account",
                ),
                ("sum", SUM),
            ):
                plan = await uow.session.execute(
                    sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {query}"), {"account": account}
                )
                print(f"\nEXPLAIN {label}:")
                for (line,) in plan:
                    print("  " + line)
        await engine.dispose()
    finally:
        await drop_database(dsn)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.entries, args.n))
