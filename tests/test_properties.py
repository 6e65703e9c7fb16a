"""Property: random sequences of writes, each through the vendor dialect that has it, keep (1) the ledger
invariants, (2) the four dialects' figures in agreement, and (3) the figures equal to an independent model.

The model keeps its own lots (amount, remaining, when available, when expiring), holds, temporary
transactions, drafts and redemptions; it predicts for every call whether the gateway accepts or refuses
it, and what it does to the spendable (available) and total figures. A refusal must change nothing.
Brevo's two lists are checked against its balance too: `/active-balance` lists the model's spendable lots less
what holds take (soonest-expiring first), adding up to `value`; `/transaction-history`'s completed rows, less the
points that expired unspent, are the points spendable or held; `/contact-balances` lists both members with their
`value`, in order.

Each example builds a fresh demo world (clock frozen at NOW) and a fresh app, and runs the sequence over
HTTP in one event loop (asyncio.run inside the sync hypothesis test). The clock ticks one second before
every operation, so that no two lots are earned at the same instant (the engine breaks such ties by a
random lot id, which no model can predict). Debit and hold amounts are often drawn as a Share of what is
available when the call runs, so that boundaries (everything, a little more than everything) are reached.
A second property draws from the operations where minutes matter (points living 3 to 60 minutes, holds,
temporary redemptions, short clock moves).

The regression tests at the end pin three engine bugs this property found (now fixed): a hold over
points that expire meanwhile drove `available` below zero; a second partial reversal of a debit restored
its points to the wrong lots; cancelling a credit whose points were held drove the balance negative."""
from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

import pytest
import xmltodict
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st

import invariants
from helpers import (ALICE, ALTCRAFT_TOKEN, BOB, BREVO, BREVO_BDID, BREVO_PID, GB, NOW, OMNEO, CheckedClient,
                      demo_tenant)
from gateway.app import Config, build_app
from gateway.engine import Engine, ledger
from helpers import TEST_STORES, assert_agree, open_test_stores, read_all

ZERO = Decimal(0)
CENT = Decimal("0.01")
POINT_VALUE = Decimal("0.05")        # USD per point (demo currency)
PENDING_DAYS = 14                    # the return window of earned (cashback) points
EXPIRY_DAYS = 365                    # points expire 365 days after they become available
HOLD_MINUTES = 10
TEMP_TIMEOUT_SEC = 600
REVERSAL_MINUTES = 10                # Omneo: a redemption can be reversed within 10 minutes

WHO = {"alice": ALICE, "bob": BOB}
GBW = "/api/v4.0/integrations"
AC = "/api/v1.1/loyalty"
BREVO_TX = f"/v3/loyalty/balance/programs/{BREVO_PID}/transactions"
TIME = "2026-03-10T12:00:00Z"


def D(value) -> Decimal:
    return Decimal(str(value))


def floor(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_FLOOR)


# === the model ===========================================================================================

@dataclass(eq=False)
class Lot:
    amount: Decimal
    remaining: Decimal
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    provisional: bool = False


@dataclass(eq=False)
class Hold:
    owner: str
    amount: Decimal
    expires_at: datetime
    state: str = "active"            # active | used | released | expired
    ref: str | None = None


@dataclass(eq=False)
class Tx:
    """A transaction our operations can name again (commit, rollback, cancel, refund, reverse)."""
    owner: str
    kind: str                        # credit | debit
    amount: Decimal
    origin: str
    status: str = "committed"        # committed | temporary | cancelled | rolled_back
    lots: list = field(default_factory=list)    # [[lot, taken, restored]] (a credit: [[its lot, amount, 0]])
    reversed: Decimal = ZERO
    money: Decimal | None = None
    refunded_money: Decimal = ZERO
    hold: Hold | None = None
    deadline: datetime | None = None
    ref: str | None = None
    linked: "Tx | None" = None       # an order's earning: the hold burn it was paid with


@dataclass(eq=False)
class Draft:
    owner: str
    direction: str
    amount: Decimal
    expires_at: datetime | None
    status: str = "draft"
    ref: str | None = None
    lot_minutes: int | None = None


@dataclass(eq=False)
class Redemption:
    owner: str
    tx: Tx
    created_at: datetime
    ref: int
    reversed: bool = False


class Refused(Exception):
    """The model expects the gateway to refuse the call (and to change nothing)."""


@dataclass(frozen=True)
class Share:
    """An amount drawn as a share of what the member has available when the operation runs (so that debits,
    holds and their boundaries are reached often, whatever the balance is by then)."""
    part: Fraction

    def __repr__(self):
        return f"Share({self.part})"


class Model:
    def __init__(self):
        self.now = NOW
        d = timedelta(days=1)
        # alice's demo history: 300 earned at -334d (100 spent, expires +45d), 1200 (expires +265d), 400 pending
        # until +9d; a 500-point lot already expired (counts nowhere)
        self.lots: dict[str, list[Lot]] = {
            "alice": [Lot(D(300), D(200), NOW - 334 * d, NOW - 320 * d, NOW + 45 * d),
                      Lot(D(1200), D(1200), NOW - 114 * d, NOW - 100 * d, NOW + 265 * d),
                      Lot(D(400), D(400), NOW - 5 * d, NOW + 9 * d, NOW + 374 * d)],
            "bob": []}
        self.holds: list[Hold] = []
        self.temps: list[Tx] = []
        self.expired: dict[str, Decimal] = {"alice": D(500), "bob": ZERO}     # points that expired unspent

    # --- time -------------------------------------------------------------------------------------
    def settle(self) -> None:
        now = self.now
        for tx in self.temps:
            if tx.status == "temporary" and tx.deadline <= now:
                self._rollback(tx, "rolled_back")
        for h in self.holds:
            if h.state == "active" and h.expires_at <= now:
                h.state = "expired"
        for who, lots in self.lots.items():
            for lot in lots:
                if not lot.provisional and lot.expires_at is not None and lot.expires_at <= now:
                    self.expired[who] += lot.remaining
                    lot.remaining = ZERO

    # --- figures ------------------------------------------------------------------------------------
    def figures(self, who: str) -> tuple[Decimal, Decimal, Decimal]:
        """(available, pending, total) as the engine should compute them."""
        self.settle()
        spendable = pending = ZERO
        for lot in self.lots[who]:
            if lot.remaining <= 0 or (lot.expires_at is not None and lot.expires_at <= self.now):
                continue
            if lot.provisional or lot.available_at > self.now:
                pending += lot.remaining
            else:
                spendable += lot.remaining
        held = min(self.held(who), spendable)        # held points that expired meanwhile hold nothing
        available = spendable - held
        return available, pending, available + pending

    def held(self, who: str) -> Decimal:
        return sum((h.amount for h in self.holds if h.owner == who and h.state == "active"), ZERO)

    def spendable(self, who: str) -> Decimal:
        return sum((l.remaining for l in self._spendable_lots(who)), ZERO)

    def available(self, who: str) -> Decimal:
        return self.figures(who)[0]

    def lots_after_holds(self, who: str) -> list[Decimal]:
        """What each spendable lot still gives once the active holds take theirs, soonest-expiring lots first (as
        the debit that uses a hold will): the amounts Brevo's active balances list, sorted."""
        held = min(self.held(who), self.spendable(who))
        out = []
        for lot in self._spendable_lots(who):
            part = min(lot.remaining, held)
            held -= part
            if lot.remaining - part > 0:
                out.append(lot.remaining - part)
        return sorted(out)

    def _spendable_lots(self, who: str) -> list[Lot]:
        self.settle()
        lots = [l for l in self.lots[who] if not l.provisional and l.available_at <= self.now and l.remaining > 0]
        return sorted(lots, key=lambda l: (l.expires_at is None, l.expires_at or l.earned_at, l.earned_at))

    # --- ledger operations (each raises Refused before changing anything) ------------------------------
    def credit(self, who: str, amount: Decimal, *, origin: str, pending_days: int = 0,
               expires_at: datetime | None = None, provisional: bool = False, deadline: datetime | None = None,
               money: Decimal | None = None) -> Tx:
        if amount <= 0:
            raise Refused("amount must be greater than 0")
        self.settle()
        available_at = self.now + timedelta(days=pending_days)
        lot = Lot(amount, amount, self.now, available_at,
                  expires_at or available_at + timedelta(days=EXPIRY_DAYS), provisional=provisional)
        self.lots[who].append(lot)
        tx = Tx(who, "credit", amount, origin, status="temporary" if provisional else "committed",
                lots=[[lot, amount, ZERO]], money=money, deadline=deadline)
        if provisional:
            self.temps.append(tx)
        return tx

    def _take(self, who: str, amount: Decimal) -> list:
        taken, left = [], amount
        for lot in self._spendable_lots(who):
            if left <= 0:
                break
            part = min(lot.remaining, left)
            lot.remaining -= part
            taken.append([lot, part, ZERO])
            left -= part
        assert left == 0, "the model took more than the lots hold"
        return taken

    def debit(self, who: str, amount: Decimal, *, origin: str, money: Decimal | None = None) -> Tx:
        if amount <= 0:
            raise Refused("amount must be greater than 0")
        if amount > self.available(who):
            raise Refused("insufficient points")
        return Tx(who, "debit", amount, origin, lots=self._take(who, amount), money=money)

    def hold(self, who: str, amount: Decimal, expires_at: datetime) -> Hold:
        if amount > self.available(who):
            raise Refused("insufficient points")
        h = Hold(who, amount, expires_at)
        self.holds.append(h)
        return h

    def redeem_hold(self, h: Hold, who: str) -> Tx:
        self.settle()
        if h.state != "active" or h.owner != who:
            raise Refused("hold not active or another customer's")
        h.state = "used"
        if h.amount > self.available(who):      # the held points expired meanwhile
            h.state = "active"
            raise Refused("insufficient points")
        return Tx(who, "debit", h.amount, "redeem", lots=self._take(who, h.amount))

    def release(self, h: Hold) -> None:
        self.settle()
        if h.state != "active":
            raise Refused("hold not active")
        h.state = "released"

    def temporary_debit(self, who: str, amount: Decimal, timeout: int | None) -> Tx:
        deadline = self.now + timedelta(seconds=timeout or TEMP_TIMEOUT_SEC)
        h = self.hold(who, amount, deadline)
        tx = Tx(who, "debit", amount, "redeem", status="temporary", hold=h, deadline=deadline)
        self.temps.append(tx)
        return tx

    def commit(self, tx: Tx) -> None:
        self.settle()
        if tx.status != "temporary":
            raise Refused("not temporary")
        if tx.kind == "credit":
            tx.lots[0][0].provisional = False
        else:
            spendable = sum((l.remaining for l in self._spendable_lots(tx.owner)), ZERO)
            others = sum((h.amount for h in self.holds
                          if h.owner == tx.owner and h.state == "active" and h is not tx.hold), ZERO)
            if spendable - min(others, spendable) < tx.amount:
                raise Refused("insufficient points to commit")
            tx.hold.state = "used"
            tx.lots = self._take(tx.owner, tx.amount)
        tx.status, tx.deadline = "committed", None

    def _rollback(self, tx: Tx, status: str) -> None:
        if tx.kind == "credit":
            lot = tx.lots[0][0]
            lot.remaining, lot.provisional = ZERO, False
        elif tx.hold.state == "active":
            tx.hold.state = "released"
        tx.status, tx.deadline = status, None

    def rollback(self, tx: Tx) -> None:
        self.settle()
        if tx.status != "temporary":
            raise Refused("not temporary")
        self._rollback(tx, "rolled_back")

    def reverse(self, tx: Tx, amount: Decimal | None = None) -> Decimal:
        """Take back (a credit) or give back (a debit) all or `amount` of what is left of a committed
        transaction; a debit's points go back to the lots they came from, last taken first."""
        self.settle()
        if tx.status != "committed":
            raise Refused(f"transaction is {tx.status}")
        left = tx.amount - tx.reversed
        if left <= 0:
            raise Refused("already fully reversed")
        want = left if amount is None else min(amount, left)
        if tx.kind == "credit":
            lot = tx.lots[0][0]
            if lot.remaining < want:
                raise Refused("the credited points were already spent")
            spendable_after = self.spendable(tx.owner) - (
                want if not lot.provisional and lot.available_at <= self.now else ZERO)
            if self.held(tx.owner) > spendable_after:      # what the holds reserve must stay
                raise Refused("the credited points are held")
            lot.remaining -= want
        else:
            rest = want
            for part in reversed(tx.lots):
                lot, took, restored = part
                give = min(took - restored, rest)
                if give > 0:
                    part[2] += give
                    rest -= give
                    if lot.expires_at is None or lot.expires_at > self.now:
                        lot.remaining += give      # into an expired lot, the points expire again at once
        tx.reversed += want
        if want == left:
            tx.status = "cancelled"
        return want

    def cancel(self, tx: Tx) -> None:
        """Altcraft cancel: a temporary transaction is rolled back, a committed one reversed in full."""
        self.settle()
        if tx.status == "temporary":
            self._rollback(tx, "cancelled")
        elif tx.status in ("cancelled", "rolled_back"):
            raise Refused("already cancelled")
        else:
            self.reverse(tx)


# === the run: one example =================================================================================

class Run:
    def __init__(self, client, tenant):
        self.client, self.tenant, self.model = client, tenant, Model()
        self.n = 0
        self.current = ""
        self.gb_txs: list[Tx] = []            # Gameball transactions (cashback, manual, redeem) by business id
        self.gb_holds: list[Hold] = []
        self.ac_txs: list[Tx] = []            # Altcraft transactions by transaction_id
        self.drafts: list[Draft] = []
        self.redemptions: list[Redemption] = []

    def amount(self, who: str, spec, unit: Decimal = Decimal(1)) -> Decimal:
        """An absolute amount as drawn, or a Share of the member's available balance, rounded down to `unit`
        (never below one unit)."""
        if not isinstance(spec, Share):
            return D(spec)
        value = self.model.available(who) * spec.part.numerator / spec.part.denominator
        return max(unit, (value / unit).to_integral_value(rounding=ROUND_FLOOR) * unit)

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n}"

    # --- checks ------------------------------------------------------------------------------------------
    def ledger_state(self):
        """What a refused call must leave as it was: every member's ledger entries (expiries aside, which
        time alone writes), live holds and lots, all settled at the current instant first."""
        t = self.tenant
        now = t.now()
        out = []
        for m in t.store.members():
            cur = t.program(m.program_id).default_currency
            with t.store.atomic():
                ledger.settle(t.store, m.id, cur, now)
            out.append((m.id,
                        [(e.id, e.status, e.reversed_amount) for e in t.store.entries_page(m.id, None) if e.kind != "expire"],
                        sorted((h.id, h.state) for h in t.store.active_holds(m.id, cur.id)),
                        sorted((l.id, l.remaining, l.provisional, l.available_at)
                               for l in t.store.open_lots(m.id, cur.id))))
        return out

    async def check(self, label: str) -> None:
        assert self.tenant.now() == self.model.now, label
        invariants.check(self.tenant)
        for who, ids in WHO.items():
            r = await read_all(self.client, ids)
            assert_agree(r)
            gb, alt, om, br = r["gameball"], r["altcraft"], r["omneo"], r["brevo"]
            available, pending, total = self.model.figures(who)
            got = {"gameball.availablePointsBalance": D(gb["availablePointsBalance"]),
                   "altcraft.active_balance": D(alt["active_balance"]),
                   "omneo.point_balance": D(om["point_balance"]),
                   "brevo.value": D(br[BREVO_BDID])}
            assert got == dict.fromkeys(got, available), (label, who, "available", available, got)
            got = {"gameball.totalPointsBalance": D(gb["totalPointsBalance"]),
                   "altcraft.total_balance": D(alt["total_balance"])}
            assert got == dict.fromkeys(got, total), (label, who, "total", total, got)
            assert D(gb["pendingPoints"]) == pending, (label, who, "pending", pending, gb["pendingPoints"])
            await self.check_brevo_lists(label, who, available)
        r = await self.client.get(f"/v3/loyalty/balance/programs/{BREVO_PID}/contact-balances?balanceDefinitionId="
                                  f"{BREVO_BDID}&sortField=value", headers=BREVO)
        listed = [(b["contactId"], D(b["value"])) for b in (await r.json())["balances"]]
        expected = sorted(((WHO[w]["brevo"], self.model.available(w)) for w in WHO), key=lambda p: (p[1], p[0]),
                          reverse=True)
        assert [v for _, v in listed] == [v for _, v in expected] and sorted(listed) == sorted(expected), (
            label, "contact balances", listed, expected)

    async def check_brevo_lists(self, label: str, who: str, available: Decimal) -> None:
        """Brevo's two lists agree with its balance `value` and with the model: the active balances are the
        spendable lots less what holds take (they add up to `value`); the completed history rows, less the points
        that expired unspent, are the points spendable or held; every debit row is negative."""
        query = f"contactId={WHO[who]['brevo']}&balanceDefinitionId={BREVO_BDID}&limit=500"
        base = f"/v3/loyalty/balance/programs/{BREVO_PID}"
        r = await self.client.get(f"{base}/active-balance?{query}", headers=BREVO)
        active = await r.json()
        amounts = sorted(D(b["amount"]) for b in active["activeBalances"])
        assert amounts == self.model.lots_after_holds(who), (label, who, "active balances", amounts)
        assert (active["count"], sum(amounts, ZERO)) == (len(amounts), available), (label, who, active)
        r = await self.client.get(f"{base}/transaction-history?{query}", headers=BREVO)
        rows = (await r.json())["transactionHistory"]
        assert all((D(i["amount"]) < 0) == (i["transactionType"] == "debit") for i in rows), (label, who, rows)
        completed = sum((D(i["amount"]) for i in rows if i["status"] == "completed"), ZERO)
        spendable = self.model.spendable(who)
        assert completed - self.model.expired[who] == spendable, (label, who, "history", completed, spendable)
        r = await self.client.get(f"{base}/transaction-history?{query}&status=completed&limit=1", headers=BREVO)
        assert (await r.json())["count"] == sum(1 for i in rows if i["status"] == "completed"), (label, who)

    async def step(self, op: tuple) -> None:
        self.tenant.clock.advance(timedelta(seconds=1))
        self.model.now += timedelta(seconds=1)
        self.current = name = op[0]
        await getattr(self, name)(*op[1:])
        await self.check(repr(op))

    async def expect(self, do, send, accepted, after=None, refused=None):
        """do() runs the call on the model: it returns what the call made, or raises Refused before changing
        anything. send() makes the call over HTTP; accepted(status, body) says whether the gateway accepted
        it. On success after(result, status, body) records the gateway's ids and checks its answer; on a
        refusal, refused(status, body) checks the answer (default: not a 5xx) and the ledger must not move."""
        try:
            result, refusal = do(), None
        except Refused as exc:
            result, refusal = None, str(exc)
        before = self.ledger_state() if refusal is not None else None
        status, body = await send()
        ok = accepted(status, body)
        event(f"{self.current}: {'accepted' if ok else 'refused'}")
        note(f"  -> {status} " + ("" if ok else str(body)) + (f"  (model: refused, {refusal})" if refusal else ""))
        if refusal is None:
            assert ok, f"the model expected success, the gateway refused: {status} {body}"
            if after is not None:
                after(result, status, body)
        else:
            assert not ok, f"the model expected a refusal ({refusal}), the gateway accepted: {status} {body}"
            assert (refused or (lambda s, b: s < 500))(status, body), (status, body)
            assert self.ledger_state() == before, "a refused call changed the ledger"

    # --- transport -----------------------------------------------------------------------------------------
    async def post(self, path, body=None, headers=None):
        r = await (self.client.post(path, json=body, headers=headers) if body is not None
                   else self.client.post(path, headers=headers))
        return r.status, await r.json()

    async def gb(self, path, body):
        return await self.post(GBW + path, body, GB)

    async def altcraft(self, path, fields: dict, how: str):
        """how: json (JSON both ways), xml (XML both ways), xml+json (XML request, JSON answer)."""
        if how == "json":
            r = await self.client.post(AC + path, json={"token": ALTCRAFT_TOKEN, **fields})
            return r.status, await r.json()
        xml = "".join(f"<{k}>{str(v).lower() if isinstance(v, bool) else v}</{k}>" for k, v in fields.items())
        r = await self.client.post(AC + path + ("?format=json" if how == "xml+json" else ""),
                                   data=f"<xml><token>{ALTCRAFT_TOKEN}</token>{xml}</xml>".encode(),
                                   headers={"Content-Type": "application/xml"})
        if how == "xml+json":
            return r.status, await r.json()
        body = dict(xmltodict.parse(await r.text())["xml"])
        body["error"] = int(body["error"])
        return r.status, body

    @staticmethod
    def ac_ok(status, body):
        return status == 200 and body["error"] == 0

    @staticmethod
    def http_ok(code):
        return lambda status, body: status == code

    @staticmethod
    def client_error(status, body):
        return 400 <= status < 500

    # === Gameball =========================================================================================
    async def gb_cashback(self, who, amount, return_window):
        m, tid = self.model, self.next_id("cb")
        body = {"customerId": WHO[who]["gameball"], "transactionId": tid, "transactionTime": TIME,
                "amount": float(amount)}
        if return_window is not None:
            body["configurations"] = {"returnWindow": return_window}
        days = PENDING_DAYS if return_window is None else return_window

        def after(tx, status, reply):
            assert D(reply["rewardEquivalentPoints"]) == tx.amount, reply
            tx.ref = tid
            self.gb_txs.append(tx)
        await self.expect(lambda: m.credit(who, floor(amount), origin="cashback", pending_days=days, money=amount),
                          lambda: self.gb("/transactions/cashback", body), self.http_ok(200), after,
                          self.client_error)

    async def gb_manual(self, who, points, expiry, by_amount):
        m, tid = self.model, self.next_id("man")
        body = {"customerId": WHO[who]["gameball"], "transactionId": tid, "username": "ops", "reason": "property"}
        money = None
        if by_amount:      # money -> whole points at 0.05 USD each, rounded down (a few cents over on purpose)
            money = D(abs(points)) * POINT_VALUE + D(abs(points) % 5) / 100
            body["amount"] = float(money if points > 0 else -money)
            size = floor(money / POINT_VALUE)
        else:
            body["points"] = points
            size = D(abs(points))
        if expiry is not None:
            body["expiryAfter"] = expiry

        def do():
            if expiry and points < 0:
                raise Refused("Deduction cannot have expiry")
            if points < 0:
                return m.debit(who, size, origin="manual", money=money)
            return m.credit(who, size, origin="manual",
                            expires_at=m.now + timedelta(days=expiry) if expiry else None, money=money)

        def after(tx, status, reply):
            assert D(reply["points"]) == (size if points > 0 else -size), reply
            tx.ref = tid
            self.gb_txs.append(tx)
        await self.expect(do, lambda: self.gb("/transactions/manual", body), self.http_ok(200), after,
                          self.client_error)

    async def gb_hold(self, who, points):
        m = self.model
        points = int(self.amount(who, points))
        body = {"customerId": WHO[who]["gameball"], "transactionTime": TIME, "pointsToHold": points}

        def after(h, status, reply):
            assert D(reply["holdEquivalentPoints"]) == h.amount, reply
            h.ref = reply["holdReference"]
            self.gb_holds.append(h)
        await self.expect(lambda: m.hold(who, D(points), m.now + timedelta(minutes=HOLD_MINUTES)),
                          lambda: self.gb("/transactions/hold", body), self.http_ok(200), after, self.client_error)

    async def gb_release(self, pick):
        if not self.gb_holds:
            return
        h = self.gb_holds[pick % len(self.gb_holds)]

        async def send():
            r = await self.client.delete(f"{GBW}/transactions/hold/{h.ref}", headers=GB)
            return r.status, await r.json()
        await self.expect(lambda: self.model.release(h), send, self.http_ok(200), None, self.http_ok(404))

    async def gb_redeem(self, who, points):
        m, tid = self.model, self.next_id("red")
        points = int(self.amount(who, points))
        body = {"customerId": WHO[who]["gameball"], "transactionId": tid, "transactionTime": TIME, "points": points}

        def after(tx, status, reply):
            assert D(reply["redeemEquivalentPoints"]) == tx.amount, reply
            tx.ref = tid
            self.gb_txs.append(tx)
        await self.expect(lambda: m.debit(who, D(points), origin="redeem"),
                          lambda: self.gb("/transactions/redeem", body), self.http_ok(200), after, self.client_error)

    async def gb_redeem_hold(self, pick, other_customer):
        if not self.gb_holds:
            return
        m, tid = self.model, self.next_id("red")
        h = self.gb_holds[pick % len(self.gb_holds)]
        who = h.owner if not other_customer else ("bob" if h.owner == "alice" else "alice")
        body = {"customerId": WHO[who]["gameball"], "transactionId": tid, "transactionTime": TIME,
                "holdReference": h.ref}

        def after(tx, status, reply):
            assert D(reply["redeemEquivalentPoints"]) == h.amount, reply
            tx.ref = tid
            self.gb_txs.append(tx)
        await self.expect(lambda: m.redeem_hold(h, who), lambda: self.gb("/transactions/redeem", body),
                          self.http_ok(200), after, self.client_error)

    async def gb_refund(self, pick, refund_amount):
        if not self.gb_txs:
            return
        m = self.model
        tx = self.gb_txs[pick % len(self.gb_txs)]
        rid = self.next_id("ref")
        body = {"customerId": WHO[tx.owner]["gameball"], "refundTransactionId": rid,
                "reverseTransactionId": tx.ref, "transactionTime": TIME}
        if refund_amount is not None:
            body["refundAmount"] = refund_amount

        def do():
            if tx.origin == "manual":
                raise Refused("a manual transaction cannot be refunded")
            amount = None if refund_amount is None else D(refund_amount)
            if amount is not None and tx.money is not None and amount == tx.money:
                amount = None                                    # the original amount: everything left
            if amount is None and tx.money is not None:
                amount = tx.money - tx.refunded_money
            m.settle()
            if tx.status in ("cancelled", "rolled_back") or tx.amount - tx.reversed <= 0:
                raise Refused("already fully refunded")
            points = None
            if amount is not None:
                if tx.money is None:
                    points = floor(amount / POINT_VALUE)
                else:
                    rest = tx.money - tx.refunded_money
                    if amount > rest:
                        raise Refused("refund exceeds what remains")
                    points = None if amount == rest else floor(tx.amount * amount / tx.money)
            full = points is None
            reversed_points = m.reverse(tx, points) if points is None or points > 0 else ZERO
            burn = tx.linked           # the points the order burned come back in the same proportion
            if burn is not None and burn.status == "committed" and burn.amount - burn.reversed > 0:
                part = None if full else floor(burn.amount * amount / tx.money)
                if part is None or part > 0:
                    m.reverse(burn, part)
            if amount is not None and tx.money is not None:
                tx.refunded_money += amount
            return reversed_points

        def after(points, status, reply):
            assert D(reply["refundEquivalentPoints"]) == points, (points, reply)
        await self.expect(do, lambda: self.gb("/transactions/refund", body), self.http_ok(200), after,
                          self.client_error)

    async def gb_order(self, who, paid, return_window, hold_pick):
        m, oid = self.model, self.next_id("ord")
        body = {"customerId": WHO[who]["gameball"], "orderId": oid, "orderDate": TIME, "totalPaid": float(paid)}
        if return_window is not None:
            body["cashbackConfigurations"] = {"returnWindow": return_window}
        h = self.gb_holds[hold_pick % len(self.gb_holds)] if hold_pick is not None and self.gb_holds else None
        if h is not None:
            body["redemption"] = {"pointsHoldReference": h.ref}
        days = PENDING_DAYS if return_window is None else return_window

        def do():      # the earning and the burn happen together, or not at all
            m.settle()
            if h is not None and (h.state != "active" or h.owner != who):
                raise Refused("hold not active or another customer's")
            burn = m.redeem_hold(h, who) if h is not None else None
            points = floor(paid)
            tx = m.credit(who, points, origin="order", pending_days=days, money=paid) if points > 0 else None
            if tx is not None:
                tx.linked = burn
            return tx, (burn.amount if burn is not None else ZERO)

        def after(result, status, reply):
            tx, burned = result
            assert (D(reply["rewardedPoints"]), D(reply["redeemedPoints"])) == (tx.amount if tx else 0, burned), reply
            if tx is not None:
                tx.ref = oid
                self.gb_txs.append(tx)
        await self.expect(do, lambda: self.gb("/orders", body), self.http_ok(200), after, self.client_error)

    async def gb_activate(self, pick):
        if not self.gb_txs:
            return
        m = self.model
        tx = self.gb_txs[pick % len(self.gb_txs)]

        def do():
            m.settle()
            if tx.kind != "credit":
                raise Refused("only a credit can be activated")
            lot = tx.lots[0][0]
            if lot.available_at > m.now and lot.remaining > 0:
                lot.available_at = m.now
                return lot.remaining
            return ZERO

        async def send():
            r = await self.client.put(f"{GBW}/transactions/{tx.ref}/activate", headers=GB)
            return r.status, await r.json()

        def after(moved, status, reply):
            assert D(reply["pointsActivated"]) == moved, (moved, reply)
        await self.expect(do, send, self.http_ok(200), after, self.client_error)

    # === Altcraft =========================================================================================
    def ac_fields(self, who, amount, temp, timeout):
        fields = {"loyalty_program_id": 123, "matching": "email", "email": WHO[who]["email"],
                  "amount": str(amount), "transaction_eid": self.next_id("ac")}
        if temp:
            fields["is_temp"] = True
            if timeout is not None:
                fields["temp_timeout_sec"] = timeout
        return fields

    def ac_after(self, tx, status, reply):
        tx.ref = reply["data"]["transaction_id"]
        self.ac_txs.append(tx)
        available, _, total = self.model.figures(tx.owner)
        assert (D(reply["data"]["balance"]), D(reply["data"]["total_balance"])) == (available, total), reply

    async def ac_accrue(self, who, amount, how, temp, timeout):
        m = self.model
        fields = self.ac_fields(who, amount, temp, timeout)

        def do():
            if temp:
                return m.credit(who, amount, origin="accrue", provisional=True,
                                deadline=m.now + timedelta(seconds=timeout or TEMP_TIMEOUT_SEC))
            return m.credit(who, amount, origin="accrue")
        await self.expect(do, lambda: self.altcraft("/accrue_points", fields, how), self.ac_ok, self.ac_after)

    async def ac_redeem(self, who, amount, how, temp, timeout):
        m = self.model
        amount = self.amount(who, amount, CENT)
        fields = self.ac_fields(who, amount, temp, timeout)
        await self.expect(lambda: m.temporary_debit(who, amount, timeout) if temp else m.debit(who, amount,
                                                                                               origin="redeem"),
                          lambda: self.altcraft("/redeeme_points", fields, how), self.ac_ok, self.ac_after)

    async def ac_state(self, action, pick, how):
        if not self.ac_txs:
            return
        m = self.model
        tx = self.ac_txs[pick % len(self.ac_txs)]
        do = {"commit": m.commit, "rollback": m.rollback, "cancel": m.cancel}[action]

        def after(_, status, reply):
            assert D(reply["data"]["balance"]) == m.available(tx.owner), reply
        await self.expect(lambda: do(tx), lambda: self.altcraft(f"/{action}_transaction", {"transaction_id": tx.ref},
                                                                how), self.ac_ok, after)

    # === Brevo ============================================================================================
    async def br_tx(self, who, amount, auto, ttl, expiry_minutes):
        m = self.model
        if isinstance(amount, Share):      # a debit of a share of the balance
            amount = -int(self.amount(who, amount))
        body = {"amount": amount, "balanceDefinitionId": BREVO_BDID, "contactId": WHO[who]["brevo"],
                "autoComplete": auto}
        if ttl is not None:
            body["ttl"] = ttl
        if expiry_minutes is not None:     # the lot's life: only applies with autoComplete
            body["balanceExpiryInMinutes"] = expiry_minutes
        d = Draft(who, "debit" if amount < 0 else "credit", D(abs(amount)),
                  m.now + timedelta(seconds=ttl) if ttl else None, lot_minutes=expiry_minutes if auto else None)
        self.drafts.append(d)
        send = lambda: self.post(BREVO_TX, body, BREVO)     # noqa: E731
        if auto:
            await self.complete(d, send)
            return

        def after(_, status, reply):
            assert reply["status"] == "draft", reply
            d.ref = reply["id"]
        await self.expect(lambda: None, send, self.http_ok(200), after)

    async def complete(self, d: Draft, send):
        """Completing a draft: the ledger change (status completed), or a 200 with status rejected, which must
        change nothing."""
        m = self.model

        def do():
            try:
                if d.direction == "credit":
                    return m.credit(d.owner, d.amount, origin="transaction",
                                    expires_at=m.now + timedelta(minutes=d.lot_minutes) if d.lot_minutes else None)
                return m.debit(d.owner, d.amount, origin="transaction")
            except Refused:
                d.status = "rejected"
                raise

        def after(_, status, reply):
            d.ref, d.status = reply["id"], "completed"
            assert D(reply["balance"]) == m.available(d.owner), reply

        def rejected(status, reply):
            d.ref = reply["id"]
            return (status, reply["status"]) == (200, "rejected")
        await self.expect(do, send, lambda s, b: s == 200 and b["status"] == "completed", after, rejected)

    async def br_finish(self, action, pick):
        drafts = [d for d in self.drafts if d.ref is not None]
        if not drafts:
            return
        m = self.model
        d = drafts[pick % len(drafts)]
        if d.status == "draft" and d.expires_at is not None and d.expires_at <= m.now:
            d.status = "expired"
        send = lambda: self.post(f"{BREVO_TX}/{d.ref}/{action}", headers=BREVO)     # noqa: E731
        if d.status != "draft":
            def do():
                raise Refused(f"the transaction is {d.status}")
            await self.expect(do, send, self.http_ok(200), None, self.http_ok(422))
        elif action == "cancel":
            def after(_, status, reply):
                assert reply["status"] == "cancelled", reply
                d.status = "cancelled"
            await self.expect(lambda: None, send, self.http_ok(200), after)
        else:
            await self.complete(d, send)

    # === Omneo ============================================================================================
    async def om_points(self, who, value):
        m = self.model
        body = {"profile_id": WHO[who]["omneo"], "point_definition_id": 1, "value_initial": value, "issued_at": None}
        await self.expect(lambda: m.credit(who, D(value), origin="omneo"),
                          lambda: self.post("/api/v3/points", body, OMNEO), self.http_ok(201))

    async def om_redeem(self, who, cents, strict):
        m = self.model
        if isinstance(cents, Share):
            amount = max(CENT, (m.available(who) * POINT_VALUE * cents.part.numerator / cents.part.denominator)
                         .quantize(CENT, rounding=ROUND_FLOOR))
        else:
            amount = D(cents) / 100
        body = {"amount": float(amount), "strategies": ["points"], "strict": strict}

        def do():
            available = m.available(who)
            coverable = (available * POINT_VALUE).quantize(CENT, rounding=ROUND_FLOOR)
            if coverable <= 0:
                raise Refused("nothing to redeem")
            if strict and coverable < amount:
                raise Refused("the amount exceeds the available balance")
            money = min(amount, coverable)
            points = min((money / POINT_VALUE).quantize(CENT, rounding=ROUND_CEILING), available)
            return money, m.debit(who, points, origin="redemption")

        def after(result, status, reply):
            money, tx = result
            data = reply["data"]
            assert D(data["total"]) == money, (money, data["total"])
            assert D(data["balances"]["point_balance"]) == m.available(who), data["balances"]
            self.redemptions.append(Redemption(who, tx, m.now, data["id"]))
        await self.expect(do, lambda: self.post(f"/api/v3/profiles/{WHO[who]['omneo']}/redeem", body, OMNEO),
                          self.http_ok(201), after, self.http_ok(422))

    async def om_reverse(self, pick):
        if not self.redemptions:
            return
        m = self.model
        red = self.redemptions[pick % len(self.redemptions)]

        def do():
            if red.reversed:
                raise Refused("already reversed")
            if m.now - red.created_at > timedelta(minutes=REVERSAL_MINUTES):
                raise Refused("past the reversal window")
            m.reverse(red.tx)
            red.reversed = True
        await self.expect(do, lambda: self.post(f"/api/v3/redemptions/{red.ref}/reversal", headers=OMNEO),
                          self.http_ok(201), None, self.http_ok(422))

    # === the clock ===========================================================================================
    async def clock(self, unit, n, via_admin):
        by = timedelta(**{unit: n})
        if via_admin:
            iso = f"P{n}D" if unit == "days" else f"PT{n}M"
            r = await self.client.post("/__admin/tenants/demo/clock/advance", json={"by": iso})
            assert r.status == 200, await r.text()
        else:
            self.tenant.clock.advance(by)
        self.model.now += by


# === the operations, as hypothesis draws them ===============================================================

who = st.sampled_from(["alice", "bob"])
pick = st.integers(0, 30)
how = st.sampled_from(["json", "xml", "xml+json"])
signed_points = st.integers(-700, 500).filter(bool)
altcraft_amount = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(600), places=2)
share = st.sampled_from([Fraction(1, 4), Fraction(1, 2), Fraction(1), Fraction(101, 100)]).map(Share)
temp_timeout = st.sampled_from([None, 60, 300])

ARGUMENTS = {     # operation -> the strategy of its arguments
    "gb_cashback": st.tuples(who, st.decimals(min_value=1, max_value=400, places=2), st.sampled_from([None, None, 0, 3])),
    "gb_manual": st.tuples(who, signed_points, st.sampled_from([None, None, 1, 30]), st.booleans()),
    "gb_hold": st.tuples(who, st.integers(1, 800) | share),
    "gb_release": st.tuples(pick),
    "gb_redeem": st.tuples(who, st.integers(1, 800) | share),
    "gb_redeem_hold": st.tuples(pick, st.booleans()),
    "gb_refund": st.tuples(pick, st.one_of(st.none(), st.integers(1, 60))),
    "gb_order": st.tuples(who, st.decimals(min_value=0, max_value=400, places=2), st.sampled_from([None, None, 0]),
                          st.one_of(st.none(), pick)),
    "gb_activate": st.tuples(pick),
    "ac_accrue": st.tuples(who, altcraft_amount, how, st.booleans(), temp_timeout),
    "ac_redeem": st.tuples(who, altcraft_amount | share, how, st.booleans(), temp_timeout),
    "ac_state": st.tuples(st.sampled_from(["commit", "rollback", "cancel"]), pick, how),
    # balanceExpiryInMinutes: points that expire within minutes, under holds and temporary redemptions
    "br_tx": st.tuples(who, signed_points | share, st.booleans(), st.sampled_from([None, None, 60, 3600]),
                       st.sampled_from([None, None, 5, 12, 60])),
    "br_finish": st.tuples(st.sampled_from(["complete", "complete", "cancel"]), pick),
    "om_points": st.tuples(who, st.integers(1, 500)),
    "om_redeem": st.tuples(who, st.integers(1, 4000) | share, st.booleans()),
    "om_reverse": st.tuples(pick),
    # whole days (at most 20) or minutes (at most 30): no lot ever expires within a hold's 10 minutes
    "clock": st.one_of(st.tuples(st.just("days"), st.integers(1, 20), st.booleans()),
                       st.tuples(st.just("minutes"), st.integers(1, 30), st.booleans())),
}


def operations(arguments: dict) -> st.SearchStrategy:
    return st.sampled_from(sorted(arguments)).flatmap(lambda name: arguments[name].map(lambda args: (name, *args)))


OPERATIONS = operations(ARGUMENTS)

# Minutes matter: points that live 5 to 12 minutes (Brevo balanceExpiryInMinutes), 10-minute holds, temporary
# redemptions of 1 to 10 minutes, and clock moves of a few minutes, so that points expire under holds and
# temporary redemptions, and holds and temporary transactions time out, between the calls that use them.
mostly_bob = st.sampled_from(["bob", "bob", "alice"])     # bob has no other points: any hold can outlive his
TIMED_ARGUMENTS = {
    "br_tx": st.tuples(mostly_bob, st.integers(1, 400), st.just(True), st.none(), st.sampled_from([3, 5, 8, 60])),
    "gb_hold": st.tuples(mostly_bob, share),
    "gb_redeem_hold": st.tuples(pick, st.just(False)),
    "gb_release": st.tuples(pick),
    "gb_redeem": st.tuples(mostly_bob, share),
    "ac_redeem": st.tuples(mostly_bob, share, how, st.just(True), st.sampled_from([None, 300])),
    "ac_state": st.tuples(st.sampled_from(["commit", "rollback", "cancel"]), pick, how),
    "om_redeem": st.tuples(mostly_bob, share, st.booleans()),
    "clock": st.tuples(st.just("minutes"), st.integers(1, 12), st.booleans()),
}
TIMED_OPERATIONS = operations(TIMED_ARGUMENTS)


async def run_sequence(ops: list[tuple], kind: str = "memory") -> None:
    """The operations through HTTP, checked after each; on the SQLite store, the file then reopened as a restart
    would must hold exactly the state the running gateway has (every write kept, none twice)."""
    with tempfile.TemporaryDirectory() as directory:
        stores = open_test_stores(kind, directory)
        engine = Engine(stores)
        engine.add(demo_tenant(stores=stores))
        tenant = engine.get("demo")
        app = build_app(engine, Config(validate_responses=True))
        async with TestClient(TestServer(app)) as raw:
            run = Run(CheckedClient(raw), tenant)
            await run.check("start")
            for op in ops:
                note(repr(op))
                await run.step(op)
        if stores is not None:
            reopened = open_test_stores(kind, directory)
            again = Engine(reopened).get("demo")
            assert again.store.export() == tenant.store.export()
            assert (again.now(), again.clock.frozen, again.high_water) == (tenant.now(), tenant.clock.frozen,
                                                                          tenant.high_water)
            invariants.check(again)
            reopened.close()
            stores.close()


HALF, ALL = Share(Fraction(1, 2)), Share(Fraction(1))


@pytest.mark.parametrize("kind", TEST_STORES)
@settings(max_examples=25, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(OPERATIONS, min_size=6, max_size=12))
@example([("ac_accrue", "bob", Decimal("100.00"), "json", False, None),       # cancel a credit while it is held
          ("gb_hold", "bob", HALF), ("ac_state", "cancel", 0, "xml"), ("gb_release", 0),
          ("ac_state", "cancel", 0, "json"), ("gb_redeem", "bob", 1)])
@example([("gb_redeem", "alice", 300), ("gb_refund", 0, 5), ("gb_refund", 0, 5),  # partial refunds of a redemption
          ("gb_refund", 0, None), ("clock", "days", 20, True), ("clock", "days", 20, False),
          ("clock", "days", 6, True)])
def test_random_writes_keep_invariants_agreement_and_model(kind, ops):
    asyncio.run(run_sequence(ops, kind))


@pytest.mark.parametrize("kind", TEST_STORES)
@settings(max_examples=25, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(TIMED_OPERATIONS, min_size=6, max_size=12))
@example([("br_tx", "bob", 100, True, None, 3), ("ac_redeem", "bob", HALF, "json", True, None),   # points expire
          ("clock", "minutes", 4, False), ("ac_state", "commit", 0, "xml+json"),                 # under holds
          ("gb_hold", "bob", ALL), ("br_tx", "bob", 40, True, None, 60), ("gb_hold", "bob", HALF),
          ("om_redeem", "bob", ALL, True), ("clock", "minutes", 7, True), ("gb_redeem", "bob", ALL)])
@example([("br_tx", "alice", 200, True, None, 5), ("gb_hold", "alice", ALL), ("clock", "minutes", 6, True),
          ("gb_redeem_hold", 0, False), ("ac_redeem", "alice", HALF, "xml", True, 300),
          ("ac_state", "cancel", 0, "json"), ("clock", "minutes", 12, False), ("om_redeem", "alice", ALL, False)])
def test_minutes_that_matter_keep_invariants_agreement_and_model(kind, ops):
    asyncio.run(run_sequence(ops, kind))


# === bugs found by the properties (fixed): minimal reproductions ======================================================================

async def _with_client(fn):
    engine = Engine()
    engine.add(demo_tenant())
    tenant = engine.get("demo")
    async with TestClient(TestServer(build_app(engine, Config(validate_responses=True)))) as raw:
        await fn(CheckedClient(raw), tenant)


async def _gb_figures(client, customer):
    b = await (await client.get(f"{GBW}/customers/{customer}/balance", headers=GB)).json()
    return b["availablePointsBalance"], b["pendingPoints"], b["totalPointsBalance"]


def test_hold_over_points_expiring_meanwhile_never_goes_negative():
    async def scenario(client, tenant):
        bob = BOB["gameball"]
        r = await client.post(f"{GBW}/transactions/manual", headers=GB, json={
            "customerId": bob, "transactionId": "m-1", "username": "ops", "reason": "bonus", "points": 100,
            "expiryAfter": 1})                                     # available now, expires NOW+1d
        assert r.status == 200
        tenant.clock.advance(timedelta(days=1) - timedelta(minutes=5))
        r = await client.post(f"{GBW}/transactions/hold", headers=GB, json={
            "customerId": bob, "transactionTime": TIME, "pointsToHold": 100})   # lasts 10 minutes
        assert r.status == 200
        tenant.clock.advance(timedelta(minutes=6))                 # the 100 points expire; the hold is still active
        assert await _gb_figures(client, bob) == (0, 0, 0)         # was (-100, 0, -100)
        invariants.check(tenant)
    asyncio.run(_with_client(scenario))


def test_second_partial_refund_of_a_redemption_goes_back_to_the_right_lots():
    async def scenario(client, tenant):
        alice = ALICE["gameball"]
        # alice: 200 points expiring at NOW+45d, 1200 expiring at NOW+265d, 400 pending until NOW+9d
        r = await client.post(f"{GBW}/transactions/redeem", headers=GB, json={
            "customerId": alice, "transactionId": "r-1", "transactionTime": TIME, "points": 300})
        assert r.status == 200                                     # takes 200 (+45d lot) and 100 (+265d lot)
        for rid in ("f-1", "f-2"):                                 # 5 USD = 100 points each
            r = await client.post(f"{GBW}/transactions/refund", headers=GB, json={
                "customerId": alice, "refundTransactionId": rid, "reverseTransactionId": "r-1",
                "transactionTime": TIME, "refundAmount": 5})
            assert r.status == 200
        assert await _gb_figures(client, alice) == (1300, 400, 1700)
        member = tenant.member_by_id("alice")
        lots = tenant.lots(member, tenant.program("main").default_currency, include_pending=True)
        assert all(l.remaining <= l.amount for l in lots), [(l.amount, l.remaining) for l in lots]  # 1300 of 1200
        tenant.clock.advance(timedelta(days=46))                   # the +45d lot expires, with the 100 given back
        assert await _gb_figures(client, alice) == (1600, 0, 1600)  # was 1700
    asyncio.run(_with_client(scenario))


def test_cancelling_a_credit_whose_points_are_held_never_goes_negative():
    async def scenario(client, tenant):
        base = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": BOB["email"]}
        r = await client.post(f"{AC}/accrue_points", json={**base, "amount": "100"})
        accrual = (await r.json())["data"]["transaction_id"]          # bob: 100 available
        r = await client.post(f"{GBW}/transactions/hold", headers=GB, json={
            "customerId": BOB["gameball"], "transactionTime": TIME, "pointsToHold": 100})
        assert r.status == 200                                     # bob: 0 available, 100 held
        r = await client.post(f"{AC}/cancel_transaction", json={"token": ALTCRAFT_TOKEN, "transaction_id": accrual})
        body = await r.json()                                      # was accepted (error 0), leaving (-100, 0, -100)
        assert body == {"error": 400, "error_text": "Insufficient points: the accrued points are held"}
        assert await _gb_figures(client, BOB["gameball"]) == (0, 0, 0)
        invariants.check(tenant)
    asyncio.run(_with_client(scenario))
