"""A write storm against a running gateway (a URL): many concurrent writes across the four dialects, each with its
own unique id, and what became of each one as the client saw it.

Every write ends in exactly one outcome:
- `acked`: answered with the vendor's success status AND its success shape for this very write (the id echoed);
  the gateway promised to keep it;
- `refused`: answered, but not with a success (a vendor error, a 5xx): it must have changed nothing;
- `unknown`: sent, and no answer came (the connection was reset or timed out: the gateway was killed): it may or
  may not have been applied, but at most once;
- `unsent`: never reached the gateway (the connection was refused, or the storm stopped first).

The storm runs on its own thread and event loop (aiohttp, `connections` keep-alive connections), so a test can
watch `acked` grow and kill the gateway mid-storm. Then `read_*` helpers look each write up again through the
vendors' own read APIs (and the control plane's ledger), so a test can say which writes the gateway holds."""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Callable, Iterable

import aiohttp
import xmltodict

GB = {"apikey": "demo-gameball-apikey", "secretkey": "demo-gameball-secretkey"}
OMNEO = {"Authorization": "Bearer demo-omneo-token", "Accept": "application/json"}
BREVO = {"api-key": "demo-brevo-key"}
ALTCRAFT_TOKEN = "abc123def456"
BREVO_PID = "0b1e5f3a-6c2d-4e7f-8a9b-1c2d3e4f5a6b"
BREVO_BDID = "7d8e9f0a-1b2c-4d3e-9f4a-5b6c7d8e9f0a"
GBW = "/api/v4.0/integrations"
ALTCRAFT = "/api/v1.1/loyalty"
BREVO_TX = f"/v3/loyalty/balance/programs/{BREVO_PID}/transactions"

# the demo world's two members, as each dialect names them
ALICE = {"id": "alice", "gameball": "user-123", "email": "user@example.com",
         "omneo": "3f2a9c4e-7b1d-4e8a-9f60-1c2d3e4f5a6b", "brevo": 17}
BOB = {"id": "bob", "gameball": "user-456", "email": "new.member@example.com",
       "omneo": "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e", "brevo": 18}
MEMBERS = {"alice": ALICE, "bob": BOB}


def now_z() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Write:
    """One write: its request, what a success looks like, and what became of it."""

    id: str
    kind: str               # e.g. gameball.manual, altcraft.accrue.xml
    member: str             # alice | bob
    points: int             # signed: + credit, - debit
    method: str
    path: str
    headers: dict
    body: bytes
    accepts: Callable[[int, bytes], bool]     # (status, raw body) -> the vendor's success for THIS write
    outcome: str = "unsent"
    status: int | None = None
    answer: bytes | None = None
    error: str | None = None

    @property
    def vendor(self) -> str:
        return self.kind.split(".")[0]


def _json_body(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _xml_body(raw: bytes):
    try:
        return xmltodict.parse(raw)["xml"]
    except Exception:
        return None


# --- the writes of each dialect ------------------------------------------------------------------------------------

def gameball_manual(wid: str, who: dict, points: int) -> Write:
    """Gameball manual transaction: + a credit, - a deduction."""
    body = {"customerId": who["gameball"], "transactionId": wid, "username": "storm", "reason": "storm",
            "points": points}

    def accepts(status, raw):
        b = _json_body(raw)
        return status == 200 and isinstance(b, dict) and (b.get("transactionId"), b.get("points")) == (wid, points)
    return Write(wid, "gameball.manual", who["id"], points, "POST", f"{GBW}/transactions/manual",
                 {**GB, "Content-Type": "application/json"}, json.dumps(body).encode(), accepts)


def gameball_redeem(wid: str, who: dict, points: int) -> Write:
    """Gameball redeem of `points` (> 0): a debit."""
    body = {"customerId": who["gameball"], "transactionId": wid, "transactionTime": now_z(), "points": points}

    def accepts(status, raw):
        b = _json_body(raw)
        return status == 200 and isinstance(b, dict) and \
            (b.get("transactionId"), b.get("redeemEquivalentPoints")) == (wid, points)
    return Write(wid, "gameball.redeem", who["id"], -points, "POST", f"{GBW}/transactions/redeem",
                 {**GB, "Content-Type": "application/json"}, json.dumps(body).encode(), accepts)


def _altcraft_fields(wid: str, who: dict, points: int) -> dict:
    return {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": who["email"],
            "amount": str(points), "transaction_eid": wid}


def _altcraft_accepts(wid: str, points: int, decode):
    def accepts(status, raw):
        b = decode(raw)
        if status != 200 or not isinstance(b, dict) or str(b.get("error")) != "0" or not isinstance(b.get("data"),
                                                                                                 dict):
            return False
        d = b["data"]
        return (d.get("transaction_eid"), d.get("amount"), d.get("status")) == (wid, f"{points}.00", "committed")
    return accepts


def altcraft_json(wid: str, who: dict, points: int) -> Write:
    """Altcraft accrue_points (points > 0) or redeeme_points (points < 0), in JSON."""
    path = f"{ALTCRAFT}/accrue_points" if points > 0 else f"{ALTCRAFT}/redeeme_points"
    return Write(wid, f"altcraft.{'accrue' if points > 0 else 'redeem'}.json", who["id"], points, "POST", path,
                 {"Content-Type": "application/json"}, json.dumps(_altcraft_fields(wid, who, abs(points))).encode(),
                 _altcraft_accepts(wid, abs(points), _json_body))


def altcraft_xml(wid: str, who: dict, points: int) -> Write:
    """Altcraft accrue_points (points > 0) or redeeme_points (points < 0), in XML (answered in XML)."""
    path = f"{ALTCRAFT}/accrue_points" if points > 0 else f"{ALTCRAFT}/redeeme_points"
    fields = _altcraft_fields(wid, who, abs(points))
    body = ("<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</xml>").encode()
    return Write(wid, f"altcraft.{'accrue' if points > 0 else 'redeem'}.xml", who["id"], points, "POST", path,
                 {"Content-Type": "application/xml"}, body, _altcraft_accepts(wid, abs(points), _xml_body))


def omneo_points(wid: str, who: dict, points: int) -> Write:
    """Omneo POST /points (points > 0): a point record, available now; the id rides in `meta.ref`."""
    body = {"profile_id": who["omneo"], "point_definition_id": 1, "value_initial": points, "issued_at": None,
            "description": f"storm {wid}", "meta": {"ref": wid}}

    def accepts(status, raw):
        b = _json_body(raw)
        d = b.get("data") if isinstance(b, dict) else None
        return status == 201 and isinstance(d, dict) and (d.get("meta"), d.get("value_initial")) == ({"ref": wid},
                                                                                                     points)
    return Write(wid, "omneo.points", who["id"], points, "POST", "/api/v3/points",
                 {**OMNEO, "Content-Type": "application/json"}, json.dumps(body).encode(), accepts)


def brevo_transaction(wid: str, who: dict, points: int) -> Write:
    """Brevo balance transaction, completed at once: + a credit, - a debit; the id rides in `meta.ref`."""
    body = {"amount": points, "balanceDefinitionId": BREVO_BDID, "contactId": who["brevo"], "autoComplete": True,
            "meta": {"ref": wid}}

    def accepts(status, raw):
        b = _json_body(raw)
        return status == 200 and isinstance(b, dict) and \
            (b.get("status"), b.get("amount"), b.get("meta")) == ("completed", points, {"ref": wid})
    return Write(wid, "brevo.transaction", who["id"], points, "POST", BREVO_TX,
                 {**BREVO, "Content-Type": "application/json"}, json.dumps(body).encode(), accepts)


# (maker, member, points): credits to both members through every dialect; small debits from alice only (1400
# points to start with: no debit of the storm can find her short, so a refusal is never the ledger's choice)
MIX = [
    (gameball_manual, ALICE, 5), (gameball_redeem, ALICE, 2), (altcraft_json, BOB, 7), (altcraft_xml, ALICE, 3),
    (omneo_points, BOB, 4), (brevo_transaction, ALICE, 6), (brevo_transaction, ALICE, -1), (altcraft_json, ALICE, -2),
    (gameball_manual, BOB, 9), (altcraft_xml, BOB, 8), (omneo_points, ALICE, 1), (brevo_transaction, BOB, 2),
    (gameball_manual, ALICE, -1), (altcraft_xml, ALICE, -1),
]


def mixed_writes(count: int, prefix: str = "storm") -> list[Write]:
    """`count` writes cycling through MIX, ids `<prefix>-<n>`: unique for this run."""
    mix = itertools.cycle(MIX)
    return [make(f"{prefix}-{n:05d}", who, points) for n, (make, who, points) in zip(range(count), mix)]


# --- the storm -----------------------------------------------------------------------------------------------------

class Storm:
    """Send `writes` to `url` over `connections` concurrent keep-alive connections, on a thread of its own."""

    def __init__(self, url: str, writes: Iterable[Write], connections: int = 16, timeout: float = 15.0,
                 force_close: bool = False):
        self.url = url
        self.writes = list(writes)
        self.connections = connections
        self.timeout = timeout
        self.force_close = force_close
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        self.before_close: Callable[[], None] | None = None     # called with every connection still open
        self.acked = 0           # counters, read by the test thread while the storm runs
        self.answered = 0

    # --- running ---
    def start(self) -> "Storm":
        self._thread = threading.Thread(target=self._main, name="storm", daemon=True)
        self._thread.start()
        return self

    def run(self, timeout: float = 60.0) -> "Storm":
        """Run every write and wait for the end."""
        self.start()
        return self.join(timeout)

    def stop(self) -> None:
        """Send no further write (those in flight finish, one way or the other)."""
        self._stop.set()

    def join(self, timeout: float = 30.0) -> "Storm":
        assert self._thread is not None
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._stop.set()
            raise AssertionError(f"the storm did not end within {timeout}s")
        if self.failure is not None:
            raise self.failure
        return self

    def wait_acked(self, n: int, timeout: float) -> None:
        """Block until `n` writes are acknowledged (fails after `timeout` s, or if the storm ended short)."""
        deadline = time.monotonic() + timeout
        while self.acked < n:
            if self._thread is not None and not self._thread.is_alive():
                raise AssertionError(f"the storm ended with {self.acked} writes acknowledged, fewer than {n}: "
                                     f"{self.summary()} {self.failure!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.acked} writes acknowledged in {timeout}s, fewer than {n}: "
                                     f"{self.summary()}")
            time.sleep(0.01)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:      # reported by join()
            self.failure = exc

    async def _run(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.connections, force_close=self.force_close)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        pending = iter(self.writes)
        async with aiohttp.ClientSession(self.url, connector=connector, timeout=timeout,
                                         skip_auto_headers=("User-Agent",)) as session:
            async def lane():
                for w in pending:             # one shared iterator: each write is taken by one lane
                    if self._stop.is_set():
                        return
                    await self._send(session, w)
            await asyncio.gather(*(lane() for _ in range(self.connections)))
            if self.before_close is not None:
                await asyncio.get_running_loop().run_in_executor(None, self.before_close)

    async def _send(self, session: aiohttp.ClientSession, w: Write) -> None:
        w.outcome = "unknown"
        try:
            async with session.request(w.method, w.path, data=w.body, headers=w.headers) as resp:
                w.status, w.answer = resp.status, await resp.read()
        except aiohttp.ClientConnectorError as exc:      # never connected: the gateway got nothing
            w.outcome, w.error = "unsent", repr(exc)
            return
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
            w.error = repr(exc)                           # sent, unanswered: unknown
            return
        self.answered += 1
        if w.accepts(w.status, w.answer):
            w.outcome = "acked"
            self.acked += 1
        else:
            w.outcome = "refused"

    # --- results ---
    def by(self, outcome: str) -> list[Write]:
        return [w for w in self.writes if w.outcome == outcome]

    def summary(self) -> dict:
        out: dict[str, int] = {}
        for w in self.writes:
            out[w.outcome] = out.get(w.outcome, 0) + 1
        return out


def replay(url: str, writes: Iterable[Write], connections: int = 8) -> list[tuple[Write, int, bytes]]:
    """Send each write once more, exactly as it was sent: [(write, status, raw answer)]. Any write that is not
    answered fails the test."""
    again = [Write(w.id, w.kind, w.member, w.points, w.method, w.path, w.headers, w.body, w.accepts)
             for w in writes]
    storm = Storm(url, again, connections=connections).run(timeout=60)
    missing = [w.id for w in storm.writes if w.outcome not in ("acked", "refused")]
    assert not missing, f"replays not answered: {missing[:5]} {[w.error for w in storm.writes[:3]]}"
    return [(w, w.status, w.answer) for w in storm.writes]


# --- reading the world back (through a processes.Gateway) -----------------------------------------------------------

def read_all(gw, who: dict) -> dict:
    """The member's balance as each dialect answers it (Altcraft in JSON and in XML)."""
    status, gb = gw.post(f"{GBW}/customers/{who['gameball']}/balance", headers=GB, method="GET")
    assert status == 200, gb
    fields = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": who["email"]}
    status, alt = gw.post(f"{ALTCRAFT}/account/balance", fields)
    assert status == 200 and alt["error"] == 0, alt
    xml = "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</xml>"
    status, alt_xml = gw.post(f"{ALTCRAFT}/account/balance", xml, {"Content-Type": "application/xml"})
    assert status == 200, alt_xml
    alt_xml = xmltodict.parse(alt_xml)["xml"]
    status, om = gw.post(f"/api/v3/profiles/{who['omneo']}/balances", headers=OMNEO, method="GET")
    assert status == 200, om
    status, br = gw.post(f"/v3/loyalty/balance/programs/{BREVO_PID}/subscriptions/{who['brevo']}/balances",
                         headers=BREVO, method="GET")
    assert status == 200, br
    return {"gameball": gb, "altcraft": alt["data"], "altcraft_xml": alt_xml["data"], "omneo": om["data"],
            "brevo": {b["balanceDefinitionId"]: b["value"] for b in br["balance"]}}


def agreed_balance(r: dict) -> Decimal:
    """The four dialects report one balance, converted (money at 0.05 USD a point): return it."""
    gb, alt, alt_xml, om, br = r["gameball"], r["altcraft"], r["altcraft_xml"], r["omneo"], r["brevo"]
    available = Decimal(str(gb["availablePointsBalance"]))
    assert available == Decimal(alt["active_balance"]) == Decimal(alt_xml["active_balance"]) \
        == Decimal(str(om["point_balance"])) == Decimal(str(br[BREVO_BDID])), r
    assert Decimal(str(gb["totalPointsBalance"])) == Decimal(alt["total_balance"]) \
        == Decimal(alt_xml["total_balance"]), r
    assert Decimal(str(gb["availablePointsValue"])) == Decimal(str(om["point_balance_dollars"])) \
        == (available * Decimal("0.05")).quantize(Decimal("0.01")), r
    return available


def ledger_entries(gw, who: dict) -> tuple[dict, list[dict]]:
    """(balance, every ledger entry) of the member, from the control plane, page by page."""
    entries: list[dict] = []
    while True:
        status, body = gw.post(f"/__admin/tenants/demo/members/{who['gameball']}?limit=1000&offset={len(entries)}",
                               method="GET")
        assert status == 200, body
        ledger = body["ledger"]["points"]
        entries += ledger["entries"]
        if len(entries) >= ledger["counts"]["entries"] or not ledger["entries"]:
            return ledger["balance"], entries


def brevo_history(gw, who: dict) -> list[dict]:
    """Every row of the member's Brevo transaction history."""
    rows: list[dict] = []
    while True:
        q = urllib.parse.urlencode({"contactId": who["brevo"], "balanceDefinitionId": BREVO_BDID, "limit": 500,
                                    "offset": len(rows)})
        status, body = gw.post(f"/v3/loyalty/balance/programs/{BREVO_PID}/transaction-history?{q}", headers=BREVO,
                               method="GET")
        assert status == 200, body
        rows += body["transactionHistory"]
        if len(rows) >= body["count"] or not body["transactionHistory"]:
            return rows


def applied_ids(gw, who: dict, writes: Iterable[Write]) -> dict[str, int]:
    """How many times the gateway holds each of `writes` (those of the member `who`), each looked up where its
    dialect keeps its id: Gameball's `transactionId` and Altcraft's `transaction_eid` on the ledger's entries,
    Omneo's `meta.ref` on the entries of its point records, Brevo's `meta.ref` in Brevo's transaction history."""
    vendor_of = {w.id: w.vendor for w in writes if w.member == who["id"]}
    found: dict[str, int] = {}

    def note(ref, vendor):
        if vendor_of.get(ref) == vendor:
            found[ref] = found.get(ref, 0) + 1
    _, entries = ledger_entries(gw, who)
    for e in entries:
        if e["kind"] not in ("credit", "debit"):
            continue
        refs = e.get("refs") or {}
        note(refs.get("transactionId"), "gameball")
        note(refs.get("transaction_eid"), "altcraft")
        if e.get("origin") == "omneo.point":
            note((e.get("meta") or {}).get("ref"), "omneo")
    for row in brevo_history(gw, who):
        if row["status"] == "completed":
            note((row.get("meta") or {}).get("ref"), "brevo")
    return found
