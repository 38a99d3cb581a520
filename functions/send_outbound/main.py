"""Cloud Tasks target: send one outbox record to its provider, at most once, in order."""

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from atende.entrypoints.http import serve_worker


@functions_framework.aio.http
async def send_outbound(request: Request) -> Response:
    return await serve_worker(request, "send_outbound")
