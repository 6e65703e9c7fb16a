"""Batch jobs: many single operations sent at once, each applied as if sent alone (so one item's refusal
leaves the others applied), and the job's outcome kept for a later status read.

The engine keeps a job as a store record (kind `batch`, a sequence id): when it ran, how many items, and each
item's outcome as the caller reports it (`results`: status and body per item; `errors`: the refused ones).
The gateway runs a batch at once, so a job is `completed` when its id is returned.
`BatchOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from typing import Any

from .errors import NotFound

BATCH_RECORD = "batch"


class BatchOperations:
    def save_batch(self, kind: str, results: list[dict[str, Any]], errors: list[dict[str, Any]]) -> int:
        """Keep a finished job; its id."""
        def op(now):
            job_id = self.store.next_seq(BATCH_RECORD)
            self.store.put_record(BATCH_RECORD, job_id, {"kind": kind, "at": now, "results": results,
                                                         "errors": errors})
            return job_id
        return self.run(op)

    def batch(self, job_id: int) -> dict:
        job = self.store.record(BATCH_RECORD, job_id)
        if job is None:
            raise NotFound("batch job not found", batch=job_id)
        return job
