"""Cloud Tasks target: dedupe, session, conversation step, outbox, audit."""

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from atende.entrypoints.http import serve_worker


@functions_framework.aio.http
async def process_inbound(request: Request) -> Response:
    return await serve_worker(request, "process_inbound")
