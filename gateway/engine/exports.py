"""Transaction exports: a program's ledger in one point currency over a period, taken once (the moment it is
asked for) and kept in the store under a task id, to be fetched later (a vendor's export is asynchronous).

Rows are the statement's rows (engine/statement.py) of every member of the program, in time order, read from the
store's time index of entries (`entries_between`): an export costs the period it covers, not the tenant's past.
Expirations are entries the engine writes when it settles a member (any read or write of its account), so an
expiration due in the period shows once its member was settled since."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import InvalidTime, NotFound, TransactionNotFound
from .ledger import new_id
from .model import PointCurrency, Program
from .statement import StatementRow, row

KIND = "transaction_export"      # its record kind in the store


@dataclass(frozen=True, slots=True)
class TransactionExport:
    id: str
    program_id: str
    currency_id: str
    start: datetime
    end: datetime
    created_at: datetime
    rows: tuple[StatementRow, ...]
    after: str | None = None          # the transaction it resumed after, if any
    requested_by: str = ""            # who asked for it (opaque: the adapter that renders it)


class ExportOperations:
    """A mixin of Tenant: take an export, read one back."""

    def export_transactions(self, program: Program, currency: PointCurrency, start: datetime, end: datetime, *,
                            after: str | None = None, requested_by: str = "",
                            task_id: str | None = None) -> TransactionExport:
        """The program's entries in `currency` dated within [start, end], after the entry `after` when given,
        kept under a new task id."""
        if end < start:
            raise InvalidTime("the period ends before it starts", start=start.isoformat(), end=end.isoformat())

        def op(now):
            store = self.store
            cursor = None
            if after is not None:
                e = store.entry(after)
                member = store.member(e.member_id) if e is not None else None
                if e is None or e.currency_id != currency.id or member is None or member.program_id != program.id:
                    raise TransactionNotFound("transaction not found", transaction=after)
                cursor = (e.at, e.seq)
            rows = []
            members: dict[str, bool] = {}
            for e in store.entries_between(currency.id, start, end):
                if cursor is not None and (e.at, e.seq) <= cursor:
                    continue
                if e.member_id not in members:
                    m = store.member(e.member_id)
                    members[e.member_id] = m is not None and m.program_id == program.id
                if members[e.member_id]:
                    rows.append(row(store, e))
            export = TransactionExport(id=task_id or new_id(), program_id=program.id, currency_id=currency.id,
                                       start=start, end=end, created_at=now, rows=tuple(rows), after=after,
                                       requested_by=requested_by)
            store.put_record(KIND, export.id, export)
            return export
        return self.run(op)

    def transaction_export(self, task_id: str) -> TransactionExport:
        export = self.store.record(KIND, task_id)
        if not isinstance(export, TransactionExport):
            raise NotFound("export not found", task=task_id)
        return export
