"""Ledger entries as a paged transaction list: one page read through the store's (member or tenant) seq
index, each row with what a history needs beside the entry itself (which way it moved the balance, whether
its points are pending, active or expired, the member's total before and after it).

Paging is by entry sequence (ascending, `after_seq` exclusive). Without filters a page reads `limit + 1`
entries whatever the history's length; a filter (direction, state) reads on until it has `limit + 1`
matches, so its cost is the entries it skips. Entries that never applied (rolled back) are not listed.
`HistoryOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .model import Entry, Member
from .payments import payment

CHUNK = 200            # entries read per store call while a filter skips rows
NEVER_APPLIED = ("rolled_back",)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    entry: Entry
    member: Member
    sign: int                        # +1: added points, -1: took points
    state: str                       # pending | active | expired
    reversed_kind: str | None        # a reversal: the kind of the entry it reversed
    reversed_amount: Decimal | None  # ... and that entry's amount (less: a partial reversal)
    expires_at: datetime | None      # a credit: when its points expire
    total_before: Decimal | None     # the member's points (available + pending) before and after it
    total_after: Decimal | None


def _sign(entry: Entry, reversed_kind: str | None) -> int:
    if entry.kind == "cancel":
        return 1 if reversed_kind == "debit" else -1
    return 1 if entry.kind == "credit" else -1


class HistoryOperations:
    def ledger_row(self, entry: Entry, now: datetime) -> LedgerRow:
        reversed_kind = reversed_amount = None
        if entry.reverses:
            original = self.store.entry(entry.reverses)
            if original is not None:
                reversed_kind, reversed_amount = original.kind, original.amount
        sign = _sign(entry, reversed_kind)
        state, expires_at = "active", None
        if entry.kind == "credit" and entry.lots:
            lot = self.store.lot(entry.lots[0][0])
            if lot is not None:
                expires_at = lot.expires_at
                if lot.available_at > now:
                    state = "pending"
                elif lot.expires_at is not None and lot.expires_at <= now:
                    state = "expired"
        after = entry.total_after
        before = after - sign * entry.amount if after is not None else None
        return LedgerRow(entry, self.member_by_id(entry.member_id), sign, state, reversed_kind, reversed_amount,
                         expires_at, before, after)

    def ledger_page(self, member: Member | None, *, after_seq: int = 0, limit: int = 50,
                    sign: int | None = None, state: str | None = None) -> tuple[list[LedgerRow], bool]:
        """(rows, has_more): up to `limit` rows after `after_seq`, of one member or of the whole tenant."""
        def op(now):
            rows: list[LedgerRow] = []
            cursor = after_seq
            filtered = sign is not None or state is not None
            while len(rows) <= limit:
                chunk = self.store.entries_page(member.id if member else None, after_seq=cursor,
                                                limit=CHUNK if filtered else limit + 1 - len(rows))
                if not chunk:
                    break
                cursor = chunk[-1].seq
                for e in chunk:
                    if e.status in NEVER_APPLIED:
                        continue
                    row = self.ledger_row(e, now)
                    if (sign is None or row.sign == sign) and (state is None or row.state == state):
                        rows.append(row)
                        if len(rows) > limit:
                            break
            return rows[:limit], len(rows) > limit
        return self.run(op)

    def ledger_count(self, member: Member | None, *, sign: int | None = None, state: str | None = None) -> int:
        """How many rows a filter lists. Unfiltered, the store's count (no entry read); filtered, it reads
        the history."""
        def op(now):
            mid = member.id if member else None
            if sign is None and state is None:
                return self.store.entries_count(mid, applied=True)
            n, cursor = 0, 0
            while True:
                chunk = self.store.entries_page(mid, after_seq=cursor, limit=CHUNK)
                if not chunk:
                    return n
                cursor = chunk[-1].seq
                for e in chunk:
                    if e.status in NEVER_APPLIED:
                        continue
                    row = self.ledger_row(e, now)
                    n += (sign is None or row.sign == sign) and (state is None or row.state == state)
        return self.run(op)

    def transaction_family(self, entry_id: str) -> list[LedgerRow]:
        """An entry, what paid for it (a purchase's burn) and every reversal of either, oldest first."""
        def op(now):
            root = self.entry(entry_id)
            family = [root] + [e for e in (self.store.entry(i) for i in payment(self.store, root.id).paid_with) if e]
            family += [r for e in list(family) for r in self.store.reversals(e.id)]
            return [self.ledger_row(e, now) for e in sorted(family, key=lambda e: e.seq)
                    if e.status not in NEVER_APPLIED]
        return self.run(op)
