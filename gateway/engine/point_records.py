"""Point records: each credit that created a lot, read as one record (what was issued, what is left of it,
when it counts and expires), listed a page at a time per member or tenant-wide, and issued directly (also
partly used already: an import of a record some of which was spent elsewhere).

`PointRecordOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from . import ledger
from .amounts import check_points
from .errors import InvalidAmount, PointRecordNotFound
from .model import EarnRate, Entry, Lot, Member, PointCurrency, Program, Receipt


@dataclass(frozen=True, slots=True)
class PointRecord:
    entry: Entry            # the credit
    lot: Lot                # what it created (remaining: what is left of it now)
    member: Member
    program: Program
    currency: PointCurrency
    rate: EarnRate | None = None        # the rate it was earned at (a purchase's points), if still configured
    receipt: Receipt | None = None      # the purchase that earned it, if any


def window(total: int, offset: int, limit: int, newest_first: bool) -> tuple[int, int]:
    """Where a page lies in a list kept oldest first: (start, count); newest first counts from the end."""
    if not newest_first:
        return offset, limit
    end = max(0, total - offset)
    return max(0, end - limit), end - max(0, end - limit)


class PointRecordOperations:
    """Point records (mixed into `Tenant`, whose plumbing they use)."""

    def _record(self, e: Entry, now: datetime) -> PointRecord:
        member = self.member_by_id(e.member_id)
        program = self.program(member.program_id)
        currency = self.currency(program, e.currency_id)
        ledger.settle(self.store, member.id, currency, now)     # what expired meanwhile is gone from it
        refs = e.refs or {}
        rate = self.store.record("earn_rate", refs["rate"]) if refs.get("rate") is not None else None
        receipt = self.store.receipt(refs["receipt"]) if refs.get("receipt") is not None else None
        return PointRecord(self.store.entry(e.id), self.store.lot(e.lots[0][0]), member, program, currency, rate,
                           receipt)

    def point_records(self, member: Member | None = None, *, offset: int = 0, limit: int = 15,
                      newest_first: bool = False) -> tuple[int, list[PointRecord]]:
        """The member's point records (or the tenant's), oldest (or newest) first: how many, and the page only."""
        member_id = member.id if member is not None else None

        def op(now):
            total = self.store.entries_count(member_id, lot_credits=True)
            rows = self.store.entries_page(member_id, lot_credits=True, offset=offset, limit=limit,
                                           newest_first=newest_first)
            return total, [self._record(e, now) for e in rows]
        return self.run(op)

    def linked_point_records(self, attribute: str, value, *, offset: int = 0,
                             limit: int = 15) -> tuple[int, list[PointRecord]]:
        """The point records of the active members linked to another by their attribute `attribute` = `value`
        (e.g. a dependant profile naming its primary), member by member in the order they joined, each member's
        oldest first: how many, and the page only (one count per linked member, then the page)."""
        def op(now):
            linked = [m for m in self.store.members_with(attribute, str(value)) if m.active]
            total, rows, skip, left = 0, [], offset, limit
            for m in linked:
                count = self.store.entries_count(m.id, lot_credits=True)
                total += count
                if left > 0 and skip < count:
                    page = self.store.entries_page(m.id, lot_credits=True, offset=skip, limit=left)
                    rows += page
                    left -= len(page)
                skip = max(0, skip - count)
            return total, [self._record(e, now) for e in rows]
        return self.run(op)

    def point_record(self, seq: int, member: Member | None = None) -> PointRecord:
        """One point record by its number (the credit's sequence number); `member`: it must be theirs."""
        e = next(iter(self.store.entries_page(after_seq=seq - 1, limit=1)), None) if seq > 0 else None
        e = e if e is not None and e.seq == seq else None
        if e is None or e.kind != "credit" or not e.lots or (member is not None and e.member_id != member.id):
            raise PointRecordNotFound("point record not found", point=seq)
        return self.run(lambda now: self._record(e, now))

    def issue_point_record(self, member: Member, currency: PointCurrency, amount, remaining=None, *,
                           earned_at: datetime | None = None, available_at: datetime | None = None,
                           expires_at: datetime | None = None, never_expires: bool = False, origin: str = "",
                           description: str | None = None, meta: dict | None = None,
                           refs: dict | None = None) -> PointRecord:
        """A granted point record (available from `available_at`, else now), of which `remaining` is left: the rest
        is recorded as spent from it at once. `never_expires`: no expiry, whatever the currency's rule."""
        value = check_points(currency, amount, rounding=currency.rules.credit_rounding)
        try:
            left = value if remaining is None else check_points(currency, remaining, allow_zero=True)
        except InvalidAmount as exc:      # say which of the two amounts is refused
            raise InvalidAmount(exc.message.replace("amount", "remaining", 1), part="remaining",
                                **exc.detail) from None
        if left > value:
            raise InvalidAmount("remaining must not exceed the amount issued", part="remaining",
                                remaining=str(left), amount=str(value))

        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            e = ledger.credit(self.store, member.id, currency, value, now, earned_at=earned_at,
                              available_at=available_at or now, expires_at=expires_at,
                              never_expires=never_expires, origin=origin, refs=refs, description=description,
                              meta=meta)
            if left < value:
                ledger.spend_lot(self.store, self.store.lot(e.lots[0][0]), currency, value - left, now,
                                 origin=origin, refs={"record": e.id})
            return self._record(e, now)
        return self.run(op)
