"""The request log: one line per served call (vendor dialects, /__admin, unknown paths) on a text stream.

text (the default), fields separated by one space, the optional ones last and only when there is one:

    TIME TENANT VENDOR OPERATION METHOD PATH STATUS DURATIONms [reason=REASON] [violations=N]
    2026-03-10T12:00:00.123Z demo gameball get_customer_balance GET /api/v4.0/.../balance 200 0.912ms

TIME is when the answer was sent (UTC, RFC 3339, milliseconds); TENANT, VENDOR, OPERATION are `-` when unknown
(credentials that open no tenant, a path no spec declares); PATH is the raw (percent-encoded) path without the
query string, so a line never breaks and query tokens never reach the log. `reason` is why the call was refused:
the engine's error code (`insufficient_points` ...), or `bad_credentials`, `malformed_body`, `invalid_request`,
`fault:<case>`, `dropped` (status 0: the connection was closed on purpose), `no_route`, `method_not_allowed`,
the admin error code; `violations` counts request and response spec violations.

json: one object per line with the keys time, tenant, vendor, operation, method, path, status, duration_ms,
reason, violations (null where the text line says `-` or leaves a field out; violations is always a number).

Written with one `write` per line and no logging-module machinery: the pipeline calls `write` once per call,
and does nothing at all when the gateway has no request log."""
from __future__ import annotations

import json
import sys
import time
from typing import TextIO

FORMATS = ("text", "json")


class RequestLog:
    def __init__(self, stream: TextIO | None = None, fmt: str = "text"):
        if fmt not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        self.stream = stream if stream is not None else sys.stdout
        self.format = fmt
        self._out = self.stream.write
        self._second = -1
        self._prefix = ""
        self.write = self._write_json if fmt == "json" else self._write_text   # chosen once, not per call

    def _time(self) -> str:
        """UTC RFC 3339 with milliseconds; the part up to the second is formatted once per second."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((now - second) * 1000):03d}Z"

    def _write_text(self, *, tenant: str | None, vendor: str | None, operation: str | None, method: str,
                    path: str, status: int, duration_ms: float, reason: str | None = None,
                    violations: int = 0) -> None:
        line = (f"{self._time()} {tenant or '-'} {vendor or '-'} {operation or '-'} {method} {path} {status} "
                f"{duration_ms:.3f}ms")
        if reason:
            line += f" reason={reason}"
        if violations:
            line += f" violations={violations}"
        self._out(line + "\n")

    def _write_json(self, *, tenant: str | None, vendor: str | None, operation: str | None, method: str,
                    path: str, status: int, duration_ms: float, reason: str | None = None,
                    violations: int = 0) -> None:
        self._out(json.dumps({"time": self._time(), "tenant": tenant, "vendor": vendor, "operation": operation,
                              "method": method, "path": path, "status": status,
                              "duration_ms": round(duration_ms, 3), "reason": reason or None,
                              "violations": violations}, separators=(",", ":")) + "\n")


__all__ = ["FORMATS", "RequestLog"]
