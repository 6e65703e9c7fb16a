"""What the router knows about a request no route took: the methods other routes serve on its path (a 405
with `Allow`, rather than a 404). Shared by the vendors' catch-all and the control plane's."""
from __future__ import annotations

from typing import Iterable

from aiohttp import web


async def allowed_methods(resources: Iterable[web.AbstractResource], request: web.Request) -> list[str]:
    """The methods `resources` serve on the request's path, sorted; [] when none matches the path."""
    allowed: set[str] = set()
    for resource in resources:
        _, methods = await resource.resolve(request)
        allowed |= methods
    return sorted(allowed)
