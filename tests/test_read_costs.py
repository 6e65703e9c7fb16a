"""A read costs what it returns: on a member with thousands of writes made under a frozen clock (every lot earned
and expiring at the same instant), Brevo's reads -- the balance, a page of active balances, a page of history, a page
of all members' balances -- never read the member's past: the store's whole-history reads are not called, and its
ordered indexes yield about one page."""
from __future__ import annotations

import pytest

from helpers import BOB, BREVO, BREVO_BDID, BREVO_PID, member_pages_only

BASE = f"/v3/loyalty/balance/programs/{BREVO_PID}"
WRITES = 3000
WHOLE_HISTORY = ("drafts", "open_lots", "members")
INDEXES = ("lots_by_expiry", "lots_by_earning")


@pytest.fixture
def counted(tenant, bob, points):
    for i in range(WRITES):
        tenant.create_draft(bob, points, "credit" if i % 3 else "debit", 1 if i % 3 else 0.5, auto_complete=True)
    store = tenant.store
    calls = {"yielded": 0}

    def refuse(name):
        def whole(*a, **kw):
            raise AssertionError(f"a read called store.{name}, which costs the whole history")
        return whole

    def count(fn):
        def iterate(*a, **kw):
            for item in fn(*a, **kw):
                calls["yielded"] += 1
                yield item
        return iterate
    for name in WHOLE_HISTORY:
        setattr(store, name, refuse(name))
    store.entries_page = member_pages_only(store.entries_page)
    for name in INDEXES:
        setattr(store, name, count(getattr(store, name)))
    yield calls
    for name in WHOLE_HISTORY + INDEXES + ("entries_page",):
        delattr(store, name)


@pytest.mark.parametrize("path", [
    f"{BASE}/subscriptions/{BOB['brevo']}/balances",
    f"{BASE}/active-balance?contactId={BOB['brevo']}&balanceDefinitionId={BREVO_BDID}&limit=20",
    f"{BASE}/active-balance?contactId={BOB['brevo']}&balanceDefinitionId={BREVO_BDID}&limit=20&offset=1400",
    f"{BASE}/transaction-history?contactId={BOB['brevo']}&balanceDefinitionId={BREVO_BDID}&limit=20",
    f"{BASE}/transaction-history?contactId={BOB['brevo']}&balanceDefinitionId={BREVO_BDID}&limit=20&offset=2900"
    "&sort=asc&status=completed",
    f"{BASE}/contact-balances?balanceDefinitionId={BREVO_BDID}&sortField=value&limit=20",
])
async def test_reads_cost_a_page(client, counted, path):
    resp = await client.get(path, headers=BREVO)
    assert resp.status == 200, await resp.text()
    assert counted["yielded"] <= 25, counted


async def test_the_pages_are_right(client, counted, tenant, bob, points):
    path = f"{BASE}/active-balance?contactId={BOB['brevo']}&balanceDefinitionId={BREVO_BDID}"
    count = (await (await client.get(f"{path}&limit=1", headers=BREVO)).json())["count"]
    assert count > 1000
    listed = []
    for offset in range(0, count + 500, 500):        # every page, then one past the end
        listed += (await (await client.get(f"{path}&limit=500&offset={offset}", headers=BREVO)).json())["activeBalances"]
    value = (await (await client.get(f"{BASE}/subscriptions/{BOB['brevo']}/balances", headers=BREVO)).json())
    assert len(listed) == len({b["id"] for b in listed}) == count
    assert sum(b["amount"] for b in listed) == value["balance"][0]["value"] == 2000 - 999 * 0.5
    history = await (await client.get(f"{BASE}/transaction-history?contactId={BOB['brevo']}&balanceDefinitionId="
                                      f"{BREVO_BDID}&limit=3&sort=asc", headers=BREVO)).json()
    # the first debit came before any credit: rejected, and listed so
    assert (history["count"], [(i["amount"], i["status"]) for i in history["transactionHistory"]]) == (
        WRITES, [(-0.5, "rejected"), (1, "completed"), (1, "completed")])
