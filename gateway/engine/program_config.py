"""Program configuration written through the API (tier and reward definitions): kept in the store over the
program the tenant was built with, so it is undone with a failed operation, kept by snapshots and gone with a
reset; `Tenant.program` applies it (a mixin of Tenant)."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .model import Program

if TYPE_CHECKING:
    from .ports import TenantStore

CONFIG = "program_config"     # program id -> the definitions written through the API (replacing the built ones)


class ProgramConfigOperations:
    store: "TenantStore"
    programs: dict[str, Program]

    def configured(self, program: Program) -> Program:
        """The program with the configuration written through the API since it was built (tier and reward
        definitions), kept in the store: undone with a failed operation, in snapshots, gone with a reset."""
        overlay = self.store.record(CONFIG, program.id)
        return replace(program, **{k: tuple(v) for k, v in overlay.items()}) if overlay else program

    def _replace_program(self, program_id: str, **changes) -> Program:
        """Configuration changes replace parts of the program: the next call of any dialect reads the new one."""
        overlay = {**(self.store.record(CONFIG, program_id) or {}), **{k: tuple(v) for k, v in changes.items()}}
        self.store.put_record(CONFIG, program_id, overlay)
        return self.program(program_id)
