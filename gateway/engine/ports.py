"""The store contract: everything the engine reads and writes, one tenant at a time.

Records are frozen dataclasses handed over whole (`put_*`), so a durable store can write
each as one row and wrap an engine operation in one transaction (`atomic`). Reads on hot
paths (open lots, active holds) are bounded by live state, never by history length."""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Iterable, Iterator

from .model import Benefit, StoreCredit
from .model import BalanceRecord, Draft, Entry, Hold, Lot, Member, Order, Receipt, Reward, TierCredit, Totals


class StoreConflict(Exception):
    """Raised by `atomic()` when its writes could not be committed because another worker wrote first: nothing
    was kept, and the operation must run again on the state as it is now (Tenant.run does)."""


class TenantStore(ABC):
    # --- unit of work ---------------------------------------------------------------
    @abstractmethod
    def atomic(self) -> AbstractContextManager[None]:
        """All writes inside commit together, or none do (the exception propagates).
        Nested calls are savepoints: a failure inside undoes only the inner writes."""

    @abstractmethod
    def next_seq(self, name: str) -> int: ...

    @abstractmethod
    def wrote(self) -> bool:
        """Whether the open unit of work has written anything yet (an operation that wrote nothing commits
        nothing: a durable store skips its transaction)."""

    # --- the tenant's own state beside its records (the clock, the high-water mark) -------------------------
    @abstractmethod
    def meta(self, name: str, default: Any = None) -> Any: ...

    @abstractmethod
    def put_meta(self, name: str, value: Any) -> None:
        """Keep one named value of the tenant (`clock`: its frozen instant or offset; `high_water`)."""

    # --- members ----------------------------------------------------------------------
    @abstractmethod
    def member(self, member_id: str) -> Member | None: ...

    @abstractmethod
    def find_member(self, kind: str, value: str) -> Member | None: ...

    @abstractmethod
    def members(self) -> Iterable[Member]: ...

    @abstractmethod
    def put_member(self, member: Member) -> None:
        """Insert or replace; re-indexes the member's identities."""

    @abstractmethod
    def members_with(self, attribute: str, value: str) -> list[Member]:
        """Members whose plain attribute (`email`, `mobile`...) is `value`, in the order they were added: an
        index lookup, never a scan of all members."""

    @abstractmethod
    def member_count(self, active: bool = True) -> int:
        """How many members (active ones only, by default): a running count."""

    @abstractmethod
    def member_page(self, offset: int, limit: int) -> list[Member]:
        """Active members in the order they were added, rows [offset, offset + limit)."""

    # --- ledger -----------------------------------------------------------------------
    @abstractmethod
    def lot(self, lot_id: str) -> Lot | None: ...

    @abstractmethod
    def open_lots(self, member_id: str, currency_id: str) -> list[Lot]:
        """Lots with points left (or provisional). Spent and expired lots drop out."""

    @abstractmethod
    def put_lot(self, lot: Lot) -> None: ...

    @abstractmethod
    def lots_by_expiry(self, member_id: str, currency_id: str) -> Iterable[Lot]:
        """Open lots, soonest-expiring first (never-expiring last), lazily: callers read as far as they need
        and write nothing while iterating."""

    @abstractmethod
    def lots_available_after(self, member_id: str, currency_id: str, at: datetime) -> list[Lot]:
        """Open lots that become available after `at` (the pending ones: bounded by the return window)."""

    @abstractmethod
    def lots_by_earning(self, member_id: str, currency_id: str, newest_first: bool = False,
                        start: int = 0) -> Iterable[Lot]:
        """Open lots (as open_lots) by the instant they were earned, then id, lazily, from the `start`-th in that
        order (pages of lots: a page costs the page)."""

    @abstractmethod
    def lot_position(self, member_id: str, currency_id: str, lot: Lot) -> int:
        """Where an open lot stands in lots_by_earning's oldest-first order, O(log n)."""

    @abstractmethod
    def open_lot_count(self, member_id: str, currency_id: str) -> int:
        """How many lots open_lots would return, O(1)."""

    @abstractmethod
    def provisional_lots(self, member_id: str, currency_id: str) -> list[Lot]: ...

    @abstractmethod
    def open_sum(self, member_id: str, currency_id: str) -> Decimal:
        """Points left in open committed lots: a running sum, O(1)."""

    @abstractmethod
    def expiring_sum(self, member_id: str, currency_id: str, at: datetime) -> Decimal:
        """Points left in committed lots expiring exactly at `at`: a running sum, O(1) (however many lots share
        that instant, e.g. all made under a frozen clock)."""

    @abstractmethod
    def hold(self, hold_id: str) -> Hold | None: ...

    @abstractmethod
    def active_holds(self, member_id: str, currency_id: str) -> list[Hold]: ...

    @abstractmethod
    def put_hold(self, hold: Hold) -> None: ...

    @abstractmethod
    def entry(self, entry_id: str) -> Entry | None: ...

    @abstractmethod
    def entries_page(self, member_id: str | None = None, currency_id: str | None = None, *,
                     lot_credits: bool = False, after_seq: int | None = None, before_seq: int | None = None,
                     offset: int = 0, limit: int | None = None, newest_first: bool = False) -> list[Entry]:
        """THE way to read entries in the order they were written (seq): one member's (None: every member's), in one
        currency (None: all; a currency only with a member), only the credits that created a lot (`lot_credits`:
        point records, of a member or the tenant, any currency) or all, with
        after_seq < seq < before_seq (None: unbounded), oldest (or newest) first, skipping `offset` rows, at most
        `limit` (None: all of the range, for bounded ranges only, e.g. the entries one call made).
        An index read: costs offset + the page, never the history (a member with 100,000 entries pages as fast as
        a new one). Rolled-back entries are included (they carry their status)."""

    @abstractmethod
    def entries_count(self, member_id: str | None = None, currency_id: str | None = None, *,
                      lot_credits: bool = False, applied: bool = False) -> int:
        """How many entries `entries_page` lists with these filters (`applied`: less the rolled-back ones), O(1)."""

    @abstractmethod
    def entries_between(self, currency_id: str, start: datetime, end: datetime) -> Iterable[Entry]:
        """Every member's entries in this currency dated (`at`) within [start, end], by (at, seq), lazily (callers
        write nothing while iterating): an index read that costs the period, not the tenant's history."""

    @abstractmethod
    def reversals(self, entry_id: str) -> list[Entry]:
        """The entries that reverse `entry_id` (their `reverses`), in seq order: an order's refunds without
        reading the member's history."""

    @abstractmethod
    def temporary_entries(self, member_id: str, currency_id: str) -> list[Entry]:
        """The member's entries in this currency whose status is `temporary` (live ones only)."""

    @abstractmethod
    def seq_value(self, name: str) -> int: ...

    @abstractmethod
    def put_entry(self, entry: Entry) -> None: ...

    @abstractmethod
    def totals(self, member_id: str, currency_id: str) -> Totals: ...

    @abstractmethod
    def put_totals(self, member_id: str, currency_id: str, totals: Totals) -> None: ...

    @abstractmethod
    def add_tier_credit(self, member_id: str, at: datetime, amount: Decimal, source: str | None = None) -> int:
        """Record a tier-points movement (its id is returned); `source` names the ledger entry behind it."""

    @abstractmethod
    def tier_sum(self, member_id: str, after: datetime, until: datetime) -> Decimal:
        """Tier points with after < at <= until: from running totals, O(log n) whatever the history."""

    @abstractmethod
    def tier_window_sums(self, member_id: str, after: datetime, until: datetime,
                         window: timedelta) -> Iterator[tuple[TierCredit, Decimal]]:
        """Each movement with after < at <= until, oldest first, with the sum of the movements in (at - window, at]:
        lazily, in one pass (a couple of pointers over the running totals)."""

    @abstractmethod
    def tier_first_after(self, member_id: str, after: datetime) -> datetime | None:
        """When the first movement after `after` happened (None: none), O(log n)."""

    @abstractmethod
    def tier_credit(self, credit_id: int) -> TierCredit | None: ...

    @abstractmethod
    def tier_credit_page(self, member_id: str | None, offset: int, limit: int) -> list[TierCredit]:
        """A member's movements, latest `at` first (None: the tenant's, newest id first), [offset, offset + limit)."""

    @abstractmethod
    def tier_credit_count(self, member_id: str | None) -> int: ...

    @abstractmethod
    def tier_credits_by_source(self, member_id: str, source: str) -> list[TierCredit]:
        """The member's movements behind one ledger entry (a handful), oldest first."""

    # --- references (business ids -> record ids), idempotency ---------------------------
    @abstractmethod
    def ref(self, scope: str, key: str) -> Any: ...

    @abstractmethod
    def put_ref(self, scope: str, key: str, value: Any) -> None: ...

    # --- rewards ------------------------------------------------------------------------
    @abstractmethod
    def rewards(self, member_id: str) -> list[Reward]: ...

    @abstractmethod
    def reward(self, reward_id: int) -> Reward | None: ...

    @abstractmethod
    def put_reward(self, reward: Reward) -> None: ...

    @abstractmethod
    def open_rewards(self, member_id: str, now: datetime) -> list[Reward]:
        """The member's rewards with value left that have not expired by `now` (some may not be issued yet):
        bounded by what is live, not by the member's past rewards."""

    @abstractmethod
    def reward_page(self, member_id: str | None, offset: int, limit: int) -> list[Reward]:
        """A member's rewards (None: the tenant's), newest first, rows [offset, offset + limit)."""

    @abstractmethod
    def reward_count(self, member_id: str | None) -> int:
        """How many rewards a member (None: the tenant) has: a running count."""

    @abstractmethod
    def delete_reward(self, reward_id: int) -> None:
        """Remove a reward (and from the counts and pages)."""

    @abstractmethod
    def definition_uses(self, definition_id: int) -> int:
        """How many rewards were issued from a reward definition (deleted ones aside): a running count."""

    # --- store credit and benefits (engine/instruments.py) --------------------------------------
    @abstractmethod
    def store_credit(self, credit_id: int) -> StoreCredit | None: ...

    @abstractmethod
    def put_store_credit(self, credit: StoreCredit) -> None:
        """Insert or replace (a credit never changes member)."""

    @abstractmethod
    def open_store_credits(self, member_id: str) -> list[StoreCredit]:
        """The member's credits with value left (expired ones too), oldest first: bounded by what is live."""

    @abstractmethod
    def benefit(self, benefit_id: int) -> Benefit | None: ...

    @abstractmethod
    def put_benefit(self, benefit: Benefit) -> None:
        """Insert or replace (a benefit never changes member)."""

    @abstractmethod
    def open_benefits(self, member_id: str) -> list[Benefit]:
        """The member's benefits with some left (expired ones too), oldest first: bounded by what is live."""

    # --- receipts (purchases recorded with their lines) ----------------------------------------
    @abstractmethod
    def receipt(self, receipt_id: int) -> Receipt | None: ...

    @abstractmethod
    def put_receipt(self, receipt: Receipt) -> None:
        """Insert or replace (a receipt never changes member)."""

    @abstractmethod
    def receipts(self, member_id: str, offset: int, limit: int) -> list[Receipt]:
        """The member's receipts in the order they were recorded, rows [offset, offset + limit): an index read."""

    @abstractmethod
    def receipt_count(self, member_id: str) -> int: ...

    # --- drafts, orders, balance records ---
    @abstractmethod
    def draft(self, draft_id: str) -> Draft | None: ...

    @abstractmethod
    def drafts(self, member_id: str, currency_id: str) -> list[Draft]:
        """The member's drafts in this currency, in the order they were created."""

    @abstractmethod
    def put_draft(self, draft: Draft) -> None:
        """Insert or replace (a draft never changes member or currency)."""

    @abstractmethod
    def limit_use(self, member_id: str, currency_id: str, direction: str, since: datetime) -> tuple[int, Decimal]:
        """(how many, how much) the member moved in this direction and currency at or after `since`, O(log n)."""

    @abstractmethod
    def add_limit_use(self, member_id: str, currency_id: str, direction: str, at: datetime, amount: Decimal) -> None:
        """Count one movement (the engine clock only moves forward: uses come in time order)."""

    # --- members' balances per currency, ordered (engine/standings.py keeps them) -------------------------------
    @abstractmethod
    def take_touched(self) -> list[tuple[str, str | None]]:
        """(member, currency) pairs whose lots, holds or entries were written since the last call ((member, None):
        the member itself), and forget them."""

    @abstractmethod
    def standing(self, currency_id: str, member_id: str) -> tuple[Decimal, datetime] | None:
        """`currency_id` here is the engine's index key of a currency (standings.scope: program and currency)."""

    @abstractmethod
    def put_standing(self, currency_id: str, member_id: str, value: Decimal | None, updated_at: datetime | None) -> None:
        """Insert, move or (value None) drop a member's balance in the currency's orders by value and by update."""

    @abstractmethod
    def standing_count(self, currency_id: str) -> int: ...

    @abstractmethod
    def standings(self, currency_id: str, order_by: str = "updated_at", descending: bool = True, offset: int = 0,
                  limit: int = 50) -> list[tuple[str, Decimal, datetime]]:
        """One page of (member, value, updated_at) ordered by `value` or `updated_at` (then member): costs the page."""

    @abstractmethod
    def put_wakeup(self, member_id: str, currency_id: str, at: datetime | None) -> None:
        """When the member's balance next changes by time alone (None: never); replaces the previous one."""

    @abstractmethod
    def due_wakeups(self, now: datetime) -> list[tuple[datetime, str, str]]:
        """(at, member, currency) of the wakeups at or before `now`, soonest first."""

    @abstractmethod
    def currency_used(self, program_id: str, currency_id: str) -> bool:
        """Whether any member of the program has a record in this currency (a lot, hold, entry, draft, balance
        record), O(1) (currency ids are unique within a program only)."""

    @abstractmethod
    def drafts_after(self, position: int) -> list[Draft]:
        """Drafts of every member created after the first `position` ones, in creation order."""

    @abstractmethod
    def draft_total(self) -> int:
        """How many drafts were ever created (all members)."""

    # --- the transaction-history index (engine/history.py keeps it; a store only orders and counts) ---
    @abstractmethod
    def history_cursor(self, name: str) -> int:
        """How far the index has read a source (`entry`: the last entry seq, `draft`: drafts read); 0 at first."""

    @abstractmethod
    def set_history_cursor(self, name: str, value: int) -> None: ...

    @abstractmethod
    def history_row(self, row_id: str) -> tuple | None:
        """(key, direction, status, watch) of an indexed row, or None."""

    @abstractmethod
    def put_history_row(self, member_id: str, currency_id: str, row_id: str, key: tuple, direction: str,
                        status: str, watch: bool) -> None:
        """Insert or move a row: ordered by `key` (then id) within the member's currency, counted per status and
        direction; `watch`: its status may still change (the engine looks at it again on reads)."""

    @abstractmethod
    def history_watched(self, member_id: str, currency_id: str) -> list[str]: ...

    @abstractmethod
    def history_count(self, member_id: str, currency_id: str, status: str | None = None,
                      direction: str | None = None) -> int:
        """Rows matching, O(1)."""

    @abstractmethod
    def history_ids(self, member_id: str, currency_id: str, status: str | None = None, direction: str | None = None,
                    *, newest_first: bool = True, offset: int = 0, limit: int | None = None) -> list[str]:
        """One page of row ids in key order: costs the page."""

    @abstractmethod
    def order(self, order_id: str) -> Order | None: ...

    @abstractmethod
    def put_order(self, order: Order) -> None: ...

    @abstractmethod
    def balance_record(self, member_id: str, currency_id: str) -> BalanceRecord | None:
        """The member's balance record of this currency (there is at most one)."""

    @abstractmethod
    def put_balance_record(self, record: BalanceRecord) -> None: ...

    # --- generic records (redemptions, orders, vendor-neutral documents) -----------------
    @abstractmethod
    def record(self, kind: str, record_id: str) -> Any: ...

    @abstractmethod
    def put_record(self, kind: str, record_id: str, value: Any) -> None: ...

    # --- record indexes: lists of record ids under a key, in the order they were added -------
    @abstractmethod
    def index_record(self, index: str, key: str, record_id: int) -> None:
        """Append `record_id` to the list `index`/`key` (ids added in increasing order)."""

    @abstractmethod
    def indexed(self, index: str, key: str, newest_first: bool = True) -> Iterable[int]:
        """The ids under `index`/`key`, lazily: a page costs what it reads, not the list's length."""

    @abstractmethod
    def indexed_count(self, index: str, key: str) -> int:
        """How many ids are under `index`/`key`, O(1)."""

    # --- snapshots ------------------------------------------------------------------------
    @abstractmethod
    def export(self) -> dict:
        """The whole state as a JSON-safe document; `restore` of it gives an equal store."""

    @classmethod
    @abstractmethod
    def restore(cls, data: dict) -> "TenantStore": ...

    def export_sections(self) -> list[tuple[str, Any]]:
        """`export`'s sections in order, as engine values (records, not yet JSON-safe), taken at once: a
        consistent view whose long lists a snapshot then writes in chunks, yielding between them, instead of
        building the whole document in one go. Optional: a store without it is exported whole."""
        raise NotImplementedError


class StoreFactory(ABC):
    """Where the tenants' stores come from, chosen once per gateway by `gateway.store.open_stores(url)`
    (`memory`, `sqlite:PATH`). The engine and the fixtures loader ask it for a store; none of them names a
    store class."""

    url: str = ""

    @abstractmethod
    def new(self, tenant_id: str) -> TenantStore:
        """An empty store for a new tenant (or for a tenant being rebuilt from its fixtures)."""

    @abstractmethod
    def restore(self, tenant_id: str, data: dict) -> TenantStore:
        """A store holding exactly a snapshot's state (`TenantStore.export`)."""

    # --- where tenants themselves live (a durable store keeps them; memory has nothing to do) ---------------
    def bind(self, engine) -> None:
        """Load the tenants the store already holds into `engine` (a restart resumes them)."""

    def attach(self, tenant) -> None:
        """`tenant` (new, or replacing the one of its id) is now served: keep it whole."""

    def forget(self, tenant_id: str) -> None:
        """The tenant was removed."""

    def sync(self) -> None:
        """Catch up with what other workers wrote (before a call reads anything)."""

    def held(self) -> list[str]:
        """The ids of the tenants the store already holds, without loading them (a parent of workers)."""
        return []

    def describe(self) -> dict:
        """What `GET /__admin/health` says of the store."""
        return {"kind": self.url or "memory"}

    def close(self) -> None:
        """A clean stop: write what is buffered and release the file (memory: nothing)."""
