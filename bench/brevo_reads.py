"""Brevo's list reads on a member with a long past vs a fresh one (by hand: `.venv/bin/python bench/brevo_reads.py
[--writes 100000]`): one page of /active-balance and of /transaction-history (20 rows), first and last page, through
the whole pipeline (aiohttp test server, validation on). The writes are made through the engine (auto-completed
Brevo credits: each adds a draft, an entry and a lot), then every read is timed as the median of 5; then
/contact-balances with `--members` more members (default 20,000), each with a credit."""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "tests")]

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from gateway.app import Config, build_app  # noqa: E402
from gateway.engine import Engine  # noqa: E402
from helpers import BREVO, BREVO_BDID, BREVO_PID, demo_tenant  # noqa: E402

BASE = f"/v3/loyalty/balance/programs/{BREVO_PID}"


async def timed(client, path) -> float:
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        r = await client.get(path, headers=BREVO)
        assert r.status == 200, await r.text()
        await r.read()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs) * 1000


async def main(writes: int, members: int) -> None:
    engine = Engine()
    engine.add(demo_tenant())
    tenant = engine.get("demo")
    alice = tenant.member("brevo.contact", 17)
    points = tenant.program("main").default_currency
    t0 = time.perf_counter()
    for _ in range(writes):
        tenant.create_draft(alice, points, "credit", 1, auto_complete=True)
    print(f"{writes} writes in {time.perf_counter() - t0:.1f} s")
    program = tenant.program("main")
    t0 = time.perf_counter()
    for i in range(members):
        m = tenant.add_member(program, {"brevo.contact": str(1000 + i)})
        tenant.credit(m, points, 1 + i % 997)
    print(f"{members} more members with a credit each in {time.perf_counter() - t0:.1f} s")
    async with TestClient(TestServer(build_app(engine, Config(validate_responses=True)))) as client:
        q = f"balanceDefinitionId={BREVO_BDID}&limit=20"
        for name, extra in (("first page, by updatedAt", ""), ("first page, by value", "&sortField=value"),
                            ("last page, by value", f"&sortField=value&offset={members}")):
            ms = await timed(client, f"{BASE}/contact-balances?{q}{extra}")
            print(f"{'contact-balances, ' + str(members + 2) + ' members':40} {name:40} {ms:8.2f} ms")
        for who, cid in (("fresh member (bob)", 18), (f"member with {writes} writes (alice)", 17)):
            q = f"contactId={cid}&balanceDefinitionId={BREVO_BDID}&limit=20"
            last = max(0, writes - 20)
            figures = {
                "active-balance, first page": await timed(client, f"{BASE}/active-balance?{q}"),
                "active-balance, last page": await timed(client, f"{BASE}/active-balance?{q}&offset={last}"),
                "transaction-history, first page": await timed(client, f"{BASE}/transaction-history?{q}"),
                "transaction-history, last page": await timed(client, f"{BASE}/transaction-history?{q}&offset={last}"),
                "transaction-history, status=completed": await timed(
                    client, f"{BASE}/transaction-history?{q}&status=completed"),
            }
            for name, ms in figures.items():
                print(f"{who:40} {name:40} {ms:8.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(main(args.writes, args.members))
