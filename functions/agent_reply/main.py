"""Agents (through a CRM) reply to a conversation, hand it back to the bot, or resolve it."""

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from atende.entrypoints.http import serve_agent


@functions_framework.aio.http
async def agent_reply(request: Request) -> Response:
    return await serve_agent(request)
