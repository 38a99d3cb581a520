"""Google Calendar push notices: verify the channel token, enqueue a sync request, answer fast."""

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from atende.entrypoints.http import serve_webhook


@functions_framework.aio.http
async def google_calendar_webhook(request: Request) -> Response:
    return await serve_webhook(request, channel="google_calendar")
