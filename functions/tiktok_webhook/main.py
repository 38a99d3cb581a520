"""TikTok webhook: verify, parse, enqueue, answer fast."""

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from atende.entrypoints.http import serve_webhook


@functions_framework.aio.http
async def tiktok_webhook(request: Request) -> Response:
    return await serve_webhook(request, channel="tiktok")
