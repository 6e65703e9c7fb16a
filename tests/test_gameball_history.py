"""Gameball transaction history: GET /transactions, /transactions/count, /transactions/customer-view.

Demo alice (user-123) has six ledger entries, in order: 500 earned -420d (expired -41d), 300 earned -334d,
1200 earned -114d, the expiry of the first 500, 100 redeemed -20d, 400 earned -5d (pending until +9d).
A point is worth 0.05 USD."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import pytest

from helpers import ALICE, BOB, GB, NOW, credit

API = "/api/v4.0/integrations"
ALICE_ID, BOB_ID = ALICE["gameball"], BOB["gameball"]
TIME = "2026-03-10T11:00:00Z"


@pytest.fixture
def vendors():
    return ["gameball"]


async def get(client, path):
    r = await client.get(API + path, headers=GB)
    return r.status, await r.json()


async def post(client, path, body):
    r = await client.post(API + path, json=body, headers=GB)
    assert r.status == 200, await r.text()
    return await r.json()


def ids(page):
    return [row["gameballTransactionId"] for row in page["transactions"]]


ALICE_ROWS = [
    {"gameballTransactionId": "1", "type": "PaymentReward", "direction": "+", "customerId": ALICE_ID, "points": 500,
     "amount": 25, "transactionTime": "2025-01-14T12:00:00.000Z", "status": "Expired",
     "expiryDate": "2026-01-28T12:00:00.000Z", "pointsBalanceBefore": 0, "pointsBalanceAfter": 500},
    {"gameballTransactionId": "2", "type": "PaymentReward", "direction": "+", "customerId": ALICE_ID, "points": 300,
     "amount": 15, "transactionTime": "2025-04-10T12:00:00.000Z", "status": "Active",
     "expiryDate": "2026-04-24T12:00:00.000Z", "pointsBalanceBefore": 500, "pointsBalanceAfter": 800},
    {"gameballTransactionId": "3", "type": "PaymentReward", "direction": "+", "customerId": ALICE_ID, "points": 1200,
     "amount": 60, "transactionTime": "2025-11-16T12:00:00.000Z", "status": "Active",
     "expiryDate": "2026-11-30T12:00:00.000Z", "pointsBalanceBefore": 800, "pointsBalanceAfter": 2000},
    {"gameballTransactionId": "4", "type": "Expiry", "direction": "-", "customerId": ALICE_ID, "points": 500,
     "amount": 25, "transactionTime": "2026-01-28T12:00:00.000Z", "status": "Active"},
    {"gameballTransactionId": "5", "type": "Redemption", "direction": "-", "customerId": ALICE_ID, "points": 100,
     "amount": 5, "transactionTime": "2026-02-18T12:00:00.000Z", "status": "Active",
     "pointsBalanceBefore": 1500, "pointsBalanceAfter": 1400},
    {"gameballTransactionId": "6", "type": "PaymentReward", "direction": "+", "customerId": ALICE_ID, "points": 400,
     "amount": 20, "transactionTime": "2026-03-05T12:00:00.000Z", "status": "Pending",
     "expiryDate": "2027-03-19T12:00:00.000Z", "pointsBalanceBefore": 1400, "pointsBalanceAfter": 1800},
]


async def test_alice_history_every_field(client):
    status, page = await get(client, f"/transactions?customerId={ALICE_ID}")
    assert (status, page) == (200, {"transactions": ALICE_ROWS, "count": 6, "hasMore": False})


async def test_pages_follow_the_cursor(client):
    _, first = await get(client, f"/transactions?customerId={ALICE_ID}&limit=2")
    assert (ids(first), first["count"], first["hasMore"]) == (["1", "2"], 2, True)
    _, second = await get(client, f"/transactions?customerId={ALICE_ID}&limit=2&startAfter=2")
    assert (ids(second), second["hasMore"]) == (["3", "4"], True)
    _, last = await get(client, f"/transactions?customerId={ALICE_ID}&limit=2&startAfter=4")
    assert (ids(last), last["hasMore"]) == (["5", "6"], False)
    _, beyond = await get(client, f"/transactions?customerId={ALICE_ID}&startAfter=6")
    assert beyond == {"transactions": [], "count": 0, "hasMore": False}


@pytest.mark.parametrize("query,expected", [
    ("direction=-", ["4", "5"]),
    (f"direction={quote('+')}", ["1", "2", "3", "6"]),
    ("direction=+", ["1", "2", "3", "6"]),             # a bare + arrives as a space
    ("status=Pending", ["6"]),
    ("status=Expired", ["1"]),
    ("status=Active", ["2", "3", "4", "5"]),
    ("status=Blocked", []),
    ("direction=-&status=Active&limit=1", ["4"]),
])
async def test_filters_and_their_count(client, query, expected):
    _, page = await get(client, f"/transactions?customerId={ALICE_ID}&{query}")
    assert ids(page) == expected
    if "limit" not in query:
        _, count = await get(client, f"/transactions/count?customerId={ALICE_ID}&{query}")
        assert count == {"count": len(expected)}


async def test_account_wide_and_unknown_customer(client):
    await post(client, "/transactions/cashback", {"customerId": BOB_ID, "transactionId": "H-1",
                                                  "transactionTime": TIME, "amount": 40})
    _, page = await get(client, "/transactions")
    assert ids(page) == ["1", "2", "3", "4", "5", "6", "7"]
    assert page["transactions"][-1]["customerId"] == BOB_ID
    assert await get(client, "/transactions/count") == (200, {"count": 7})
    assert await get(client, "/transactions?customerId=nobody") == (200, {"transactions": [], "count": 0,
                                                                           "hasMore": False})
    assert await get(client, "/transactions/count?customerId=nobody") == (200, {"count": 0})


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "startAfter=-1", "status=active", "direction=x",
                                   "limit=ten"])
async def test_bad_paging_is_3003(client, query):
    status, body = await get(client, f"/transactions?{query}")
    assert (status, body["code"]) == (422, 3003)
    assert query.split("=")[0] in body["message"]


async def test_gameball_writes_read_back_with_their_ids(client):
    await post(client, "/transactions/cashback", {"customerId": BOB_ID, "transactionId": "CB-9",
                                                  "transactionTime": TIME, "amount": 100,
                                                  "configurations": {"returnWindow": 0}})
    await post(client, "/transactions/redeem", {"customerId": BOB_ID, "transactionId": "RD-9",
                                                "transactionTime": TIME, "points": 30, "reason": "Coffee"})
    await post(client, "/transactions/refund", {"customerId": BOB_ID, "refundTransactionId": "RF-9",
                                                "reverseTransactionId": "RD-9", "transactionTime": TIME})
    await post(client, "/transactions/manual", {"customerId": BOB_ID, "transactionId": "MN-9", "username": "ops",
                                                "reason": "Goodwill", "points": -10})
    _, page = await get(client, f"/transactions?customerId={BOB_ID}")
    assert [(r.get("transactionId"), r["type"], r["direction"], r["points"], r["amount"], r["status"],
             r["pointsBalanceBefore"], r["pointsBalanceAfter"]) for r in page["transactions"]] == [
        ("CB-9", "PaymentReward", "+", 100, 100, "Active", 0, 100),      # amount: the money paid
        ("RD-9", "Redemption", "-", 30, 1.5, "Active", 100, 70),
        ("RF-9", "Refund", "+", 30, 1.5, "Active", 70, 100),
        ("MN-9", "ManualDeduction", "-", 10, 0.5, "Active", 100, 90),
    ]
    assert page["transactions"][1]["reason"] == "Coffee"


async def test_other_dialects_writes_are_listed_without_a_gameball_id(client, tenant):
    credit(tenant, "gameball.customer", BOB_ID, "25")
    _, page = await get(client, f"/transactions?customerId={BOB_ID}")
    [row] = page["transactions"]
    assert "transactionId" not in row
    assert (row["type"], row["points"], row["direction"]) == ("ManualAccumulation", 25, "+")


async def test_customer_view_keeps_a_deleted_customer(client):
    _, page = await get(client, f"/transactions/customer-view?customerId={ALICE_ID}&limit=1")
    assert page["transactions"][0] == {**ALICE_ROWS[0], "customerName": "Alice Example",
                                       "customerEmail": "user@example.com", "isCustomerDeleted": False}
    r = await client.delete(f"{API}/customers/{ALICE_ID}", headers=GB)
    assert r.status == 200
    _, page = await get(client, "/transactions/customer-view?limit=1")
    assert page["transactions"][0]["customerId"] == ALICE_ID and page["transactions"][0]["isCustomerDeleted"]


async def test_a_page_reads_one_page_whatever_the_history(client, tenant):
    """bob gets 100,000 entries; reading a page of them reads limit + 1 entries from the store, as for alice."""
    template = credit(tenant, "gameball.customer", BOB_ID, "1")
    for i in range(100_000):
        seq = tenant.store.next_seq("entry")
        tenant.store.put_entry(replace(template, id=f"bulk-{i}", seq=seq, lots=()))
    tenant.run(lambda now: None)      # an operation indexes what was written (as if each entry came with one)
    reads = []
    original = tenant.store.entries_page

    def counting(*a, **kw):
        out = original(*a, **kw)
        reads.append(len(out))
        return out
    tenant.store.entries_page = counting
    _, page = await get(client, f"/transactions?customerId={BOB_ID}&limit=50&startAfter={seq - 60_000}")
    assert page["count"] == 50 and page["hasMore"] and sum(reads) == 51
    reads.clear()
    _, page = await get(client, f"/transactions?customerId={ALICE_ID}&limit=5")
    assert page["count"] == 5 and sum(reads) == 6
    reads.clear()
    assert await get(client, f"/transactions/count?customerId={BOB_ID}") == (200, {"count": 100_001})
    assert sum(reads) == 0


async def test_the_history_indexes_survive_a_snapshot(client, tenant):
    """entries_page, entries_count and reversals are rebuilt from the entries when a snapshot is restored."""
    from gateway.store.memory import MemoryTenantStore
    await post(client, "/orders", {"customerId": BOB_ID, "orderId": "SNAP-1", "orderDate": TIME, "totalPaid": 50})
    await post(client, "/transactions/refund", {"customerId": BOB_ID, "refundTransactionId": "SNAP-R",
                                                "reverseTransactionId": "SNAP-1", "transactionTime": TIME})
    store = tenant.store
    restored = MemoryTenantStore.restore(store.export())
    bob = tenant.member("gameball.customer", BOB_ID)
    order = tenant.entry_by(("gameball.tx", "SNAP-1"))
    for member_id in (bob.id, "alice", None):
        assert restored.entries_page(member_id, after_seq=0, limit=100) == store.entries_page(member_id, after_seq=0, limit=100)
        assert restored.entries_count(member_id, applied=True) == store.entries_count(member_id, applied=True)
    assert restored.entries_page(None, after_seq=3, limit=2) == store.entries_page(None, after_seq=3, limit=2)
    assert [e.id for e in restored.reversals(order.id)] == [e.id for e in store.reversals(order.id)] != []
