"""The store contract: everything the engine reads and writes, one tenant at a time.

Records are frozen dataclasses handed over whole (`put_*`), so a durable store can write
each as one row and wrap an engine operation in one transaction (`atomic`). Reads on hot
paths (open lots, active holds) are bounded by live state, never by history length."""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

from .model import BalanceRecord, Draft, Entry, Hold, Lot, Member, Order, Reward, Totals


class TenantStore(ABC):
    # --- unit of work ---------------------------------------------------------------
    @abstractmethod
    def atomic(self) -> AbstractContextManager[None]:
        """All writes inside commit together, or none do (the exception propagates).
        Nested calls are savepoints: a failure inside undoes only the inner writes."""

    @abstractmethod
    def next_seq(self, name: str) -> int: ...

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
    def provisional_lots(self, member_id: str, currency_id: str) -> list[Lot]: ...

    @abstractmethod
    def open_sum(self, member_id: str, currency_id: str) -> Decimal:
        """Points left in open committed lots: a running sum, O(1)."""

    @abstractmethod
    def hold(self, hold_id: str) -> Hold | None: ...

    @abstractmethod
    def active_holds(self, member_id: str, currency_id: str) -> list[Hold]: ...

    @abstractmethod
    def put_hold(self, hold: Hold) -> None: ...

    @abstractmethod
    def entry(self, entry_id: str) -> Entry | None: ...

    @abstractmethod
    def entries(self, member_id: str, currency_id: str | None = None) -> list[Entry]: ...

    @abstractmethod
    def temporary_entries(self, member_id: str, currency_id: str) -> list[Entry]: ...

    @abstractmethod
    def entries_after(self, seq: int) -> list[Entry]:
        """Entries written after sequence number `seq` (the journal's 'entries this call made')."""

    @abstractmethod
    def seq_value(self, name: str) -> int: ...

    @abstractmethod
    def entries_page(self, member_id: str | None, after_seq: int, limit: int) -> list[Entry]:
        """Up to `limit` entries with `seq > after_seq`, in seq order: one member's, or the tenant's (None).
        Costs the page, not the history: a member with 100,000 entries pages as fast as a new one."""

    @abstractmethod
    def reversals(self, entry_id: str) -> list[Entry]:
        """The entries that reverse `entry_id` (their `reverses`), in seq order: an order's refunds without
        reading the member's history."""

    @abstractmethod
    def entries_count(self, member_id: str | None) -> int:
        """How many entries of a member (or the tenant, None) applied (status other than rolled_back), without
        reading them."""

    @abstractmethod
    def put_entry(self, entry: Entry) -> None: ...

    @abstractmethod
    def totals(self, member_id: str, currency_id: str) -> Totals: ...

    @abstractmethod
    def put_totals(self, member_id: str, currency_id: str, totals: Totals) -> None: ...

    @abstractmethod
    def tier_credits(self, member_id: str, since: datetime) -> list[tuple[datetime, Decimal]]:
        """Tier-relevant credits (signed) earned after `since`, oldest first."""

    @abstractmethod
    def add_tier_credit(self, member_id: str, at: datetime, amount: Decimal) -> None: ...

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
    (`memory` now; a durable store later). The engine and the fixtures loader ask it for a store; none of
    them names a store class."""

    url: str = ""

    @abstractmethod
    def new(self, tenant_id: str) -> TenantStore:
        """An empty store for a new tenant (or for a tenant being rebuilt from its fixtures)."""

    @abstractmethod
    def restore(self, tenant_id: str, data: dict) -> TenantStore:
        """A store holding exactly a snapshot's state (`TenantStore.export`)."""
