"""Cloud Scheduler target: poll every configured Apple (iCloud CalDAV) calendar for changes."""

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from atende.entrypoints.http import serve_job


@functions_framework.aio.http
async def apple_calendar_poll(request: Request) -> Response:
    return await serve_job(request, "apple_calendar_poll")
