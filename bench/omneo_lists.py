"""Omneo list reads on a member with 100,000 point records and 100,000 transactions vs a fresh member, through
HTTP in process (no network, no response validation): a page must cost a page, not the member's history.
By hand, never in CI:

  python bench/omneo_lists.py [--records 100000]

The records are written through the engine directly (each credit with its own expiry, so building them is
linear); the reads go through the Omneo dialect."""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from gateway.app import Config, build_app  # noqa: E402
from gateway.engine import Engine, ledger  # noqa: E402
from helpers import ALICE, BOB, OMNEO, demo_tenant  # noqa: E402


def world(n: int) -> Engine:
    engine, tenant = Engine(), demo_tenant()
    engine.add(tenant)
    alice, currency, now = tenant.member_by_id("alice"), tenant.program("main").default_currency, tenant.now()
    started = time.perf_counter()
    with tenant.store.atomic():
        for i in range(n):
            ledger.credit(tenant.store, alice.id, currency, Decimal(1), now, available_at=now, origin="bulk",
                          expires_at=now + timedelta(days=365, seconds=i))
    for i in range(n):
        tenant.record_receipt(alice, 1, transacted_at=now - timedelta(days=60) + timedelta(seconds=i),
                              external_id=f"E{i}", receipt_ref=f"R{i % 100}")
    print(f"built {n} point records + {n} transactions in {time.perf_counter() - started:.1f}s")
    return engine


async def measure(engine: Engine, n: int, repeat: int = 50) -> None:
    last = -(-n // 15)
    async with TestClient(TestServer(build_app(engine, Config(validate_responses=False)))) as c:
        for label, who in (("big member", ALICE["omneo"]), ("fresh member", BOB["omneo"])):
            for what, path in (("points p1", f"/api/v3/profiles/{who}/points"),
                               ("points last", f"/api/v3/profiles/{who}/points?page[number]={last}"),
                               ("points newest", f"/api/v3/profiles/{who}/points?sort=-id"),
                               ("transactions p1", f"/api/v3/profiles/{who}/transactions"),
                               ("transactions last", f"/api/v3/profiles/{who}/transactions?page[number]={last}"),
                               ("find", f"/api/v3/profiles/{who}/find-transactions?filter[receipt_ref]=R7"
                                        f"&filter[external_id]=E7"),
                               ("balances", f"/api/v3/profiles/{who}/balances"),
                               ("profile", f"/api/v3/profiles/{who}")):
                for _ in range(3):
                    await (await c.get(path, headers=OMNEO)).read()
                started = time.perf_counter()
                for _ in range(repeat):
                    r = await c.get(path, headers=OMNEO)
                    await r.read()
                ms = (time.perf_counter() - started) / repeat * 1000
                print(f"{label:13s} {what:18s} {r.status} {ms:7.2f} ms/request")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=100_000)
    n = p.parse_args().records
    asyncio.run(measure(world(n), n))


if __name__ == "__main__":
    main()
