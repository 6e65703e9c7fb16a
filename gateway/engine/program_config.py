"""Program configuration written through the API (point currencies and their drafts and limits, tier and reward
definitions): kept in the store as an overlay over the program the tenant was built with, so it is undone with a
failed operation, kept by snapshots and gone with a reset. Every reader of a tenant's programs -- engine and
vendors alike -- goes through `program`, `programs_now` or `find_program`, which apply it (a mixin of Tenant).

`Tenant.programs` holds the programs as built (the base); nothing writes to it after the tenant is built."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .model import Program

if TYPE_CHECKING:
    from .ports import TenantStore

CONFIG = "program_config"     # program id -> the parts written through the API (replacing the built ones)


def _frozen(value: Any) -> Any:
    """A part as kept: sequences as tuples, mappings as plain dicts (a record is never changed in place)."""
    return dict(value) if isinstance(value, dict) else tuple(value)


class ProgramConfigOperations:
    store: "TenantStore"
    programs: dict[str, Program]

    def configured(self, program: Program) -> Program:
        """The program with the configuration written through the API since it was built.

        Memoised on the identity of the base program and of the store's overlay record (records are replaced,
        never changed in place), so a read of an unchanged program costs a dictionary look-up."""
        overlay = self.store.record(CONFIG, program.id)
        if not overlay:
            return program
        memo = self.__dict__.setdefault("_configured_memo", {})
        hit = memo.get(program.id)
        if hit is not None and hit[0] is program and hit[1] is overlay:
            return hit[2]
        out = replace(program, **overlay)
        memo[program.id] = (program, overlay, out)
        return out

    def find_program(self, program_id: str) -> Program | None:
        """The configured program, or None when the tenant has no such program."""
        base = self.programs.get(program_id)
        return None if base is None else self.configured(base)

    def programs_now(self) -> list[Program]:
        """Every program of the tenant as configured now, in the order they were built."""
        return [self.configured(p) for p in self.programs.values()]

    def _replace_program(self, program_id: str, **changes) -> Program:
        """Configuration changes replace parts of the program: the next call of any dialect reads the new one."""
        overlay = {**(self.store.record(CONFIG, program_id) or {}), **{k: _frozen(v) for k, v in changes.items()}}
        self.store.put_record(CONFIG, program_id, overlay)
        return self.program(program_id)
