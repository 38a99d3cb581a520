"""Scheduled: renew the YouTube WebSub subscriptions before their leases end."""

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from atende.entrypoints.http import serve_job


@functions_framework.aio.http
async def youtube_renew(request: Request) -> Response:
    return await serve_job(request, "youtube_renew")
