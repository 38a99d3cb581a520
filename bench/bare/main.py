"""The bare function the webhook is compared with: same framework and server, no work."""

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response


@functions_framework.aio.http
async def bare(request: Request) -> Response:
    await request.body()
    return Response("ok", media_type="text/plain")
