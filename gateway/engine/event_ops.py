"""Things a member did that a program may reward (a review written, a level reached): recorded, not rewarded.

Earning rules on events are not modelled: an event changes no balance. Each event is kept as a store record
(kind `event`, a sequence id) with the member, its name, its properties as sent and when it was received, so a
test can see what was sent. `EventOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from typing import Any, Mapping

from .errors import MemberInactive
from .model import Member, Program

EVENT_RECORD = "event"


class EventOperations:
    def record_events(self, program: Program, identity: tuple[str, Any], events: Mapping[str, Mapping],
                      *, attributes: dict | None = None) -> tuple[Member, list[int]]:
        """Record each (name, properties) for the member with `identity`, joining it to `program` if it is new
        (an opted-out member is refused). Returns the member and the events' ids."""
        kind, value = identity

        def op(now):
            member = self.store.find_member(kind, str(value))
            if member is None:
                member = self.add_member(program, {kind: str(value)}, attributes=attributes)
            elif not member.active:
                raise MemberInactive("member is not registered in the program", **{kind: value})
            ids = []
            for name, properties in events.items():
                event_id = self.store.next_seq(EVENT_RECORD)
                self.store.put_record(EVENT_RECORD, event_id, {"member_id": member.id, "name": name,
                                                               "properties": dict(properties or {}), "at": now})
                ids.append(event_id)
            return member, ids
        return self.run(op)

    def event(self, event_id: int) -> dict | None:
        return self.store.record(EVENT_RECORD, event_id)
