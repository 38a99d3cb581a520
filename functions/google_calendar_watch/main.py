"""Scheduled (Cloud Scheduler): keep one live push channel on every configured calendar."""

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from atende.entrypoints.http import serve_job


@functions_framework.aio.http
async def google_calendar_watch(request: Request) -> Response:
    return await serve_job(request, "google_calendar_watch")
