"""Leaving a program for good: a member deleted through one identity.

A deleted member keeps its ledger (other identities, audits and history reads still find its entries), but
the identity it was deleted through is released: the same id later names a new, empty member. The released
identity is kept in `attributes["forgotten"]` so history can still say whose entries these were and that the
member is gone. `MemberOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from dataclasses import replace

from .model import Member

FORGOTTEN = "forgotten"     # attributes key: {identity kind: value} released by a deletion


class MemberOperations:
    def forget_member(self, member: Member, kind: str) -> Member:
        """Deactivate the member and release its identity of `kind` (one engine operation)."""
        def op(now):
            identities = {k: v for k, v in member.identities.items() if k != kind}
            forgotten = {**(member.attributes.get(FORGOTTEN) or {}), kind: member.identities.get(kind)}
            m = replace(member, identities=identities, active=False, updated_at=now,
                        attributes={**member.attributes, FORGOTTEN: forgotten})
            self.store.put_member(m)
            return m
        return self.run(op)

    @staticmethod
    def forgotten_identity(member: Member, kind: str) -> str | None:
        """The identity of `kind` a deletion released, if any."""
        return (member.attributes.get(FORGOTTEN) or {}).get(kind)
