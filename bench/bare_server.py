"""The baseline: a bare aiohttp server answering a fixed body (as large as the gateway's answer)
on every path, GET or POST, reading the request body as the gateway does."""
import sys

from aiohttp import web

body = open(sys.argv[2], "rb").read()
ctype = sys.argv[3]


async def handle(request):
    await request.read()
    return web.Response(body=body, content_type=ctype)


app = web.Application()
app.router.add_route("*", "/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
