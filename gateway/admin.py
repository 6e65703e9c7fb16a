"""The /__admin control plane (JSON in and out)."""
from __future__ import annotations

from aiohttp import web


def setup(app: web.Application, gw) -> None:
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "tenants": len(gw.engine),
                                  "vendors": {n: s.version for n, s in gw.specs.items()}})

    app.router.add_get("/__admin/health", health)
