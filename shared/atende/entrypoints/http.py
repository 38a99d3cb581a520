"""Turns a Starlette request into one use case call, and its outcome into a status code.

Webhooks: 200 once enqueued, 4xx for input we refuse, 5xx only when the provider should
retry. Workers (Cloud Tasks targets): 2xx for done, duplicate or permanently failed work,
5xx for transient failure so the queue retries.
"""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.requests import Request
from starlette.responses import Response

from atende.adapters.cloud_tasks import CORRELATION_HEADER
from atende.bootstrap import container
from atende.config import Settings
from atende.domain.task_attempt import TaskAttempt, attempt_from_headers
from atende.errors import (
    ConfigurationError,
    MalformedPayloadError,
    PermanentError,
    SessionNotFoundError,
    TransientError,
    UnauthorizedCallerError,
    WaitingForEarlierReplyError,
)
from atende.fsm.machine import InvalidTransitionError
from atende.observability.context import bind, new_correlation_id
from atende.observability.logging import configure_logging
from atende.webhook.edge import EdgeRequest

logger = logging.getLogger(__name__)


async def read_limited_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds `limit` (never buffering more than that)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def serve_webhook(request: Request, channel: str) -> Response:
    app = container(f"{channel}_webhook")
    configure_logging(app.settings.log_level)
    correlation_id = request.headers.get(CORRELATION_HEADER) or new_correlation_id()
    body = b""
    if request.method == "POST":
        limited = await read_limited_body(request, app.settings.max_body_bytes)
        if limited is None:
            return Response("payload_too_large", status_code=413, media_type="text/plain")
        body = limited
    edge_request = EdgeRequest(
        method=request.method,
        query=dict(request.query_params),
        headers=request.headers,
        body=body,
    )
    result = await app.webhook(channel).handle(edge_request, correlation_id)
    return Response(
        result.body,
        status_code=result.status,
        media_type=result.media_type,
        headers=dict(result.headers or {}),
    )


def _json(status: int, **content: object) -> Response:
    return Response(json.dumps(content), status_code=status, media_type="application/json")


async def serve_agent(request: Request) -> Response:
    """The agent API: 200 with the outcome; 400 bad request, 401 a missing, unknown or revoked
    token, 403 a tenant the token does not name, 404 unknown session, 409 an action the
    conversation's state does not allow, 503 retry later.

    The agent API token is in `Authorization: Bearer`, in both modes: when the function is
    private, Cloud Run checks the CRM's Google ID token in `X-Serverless-Authorization`
    before the request gets here, and this code does not look at that header."""
    app = container("agent_reply")
    configure_logging(app.settings.log_level)
    correlation_id = request.headers.get(CORRELATION_HEADER) or new_correlation_id()
    with bind(correlation_id=correlation_id):
        if request.method != "POST":
            return _json(405, error="method_not_allowed", detail="POST a JSON agent command")
        try:
            caller = await asyncio.to_thread(app.agent_authenticator.authenticate, request.headers)
        except UnauthorizedCallerError as error:
            logger.warning("agent caller refused", extra={"json_fields": {"outcome": error.code}})
            return Response(
                json.dumps({"error": error.code, "detail": str(error)}),
                status_code=401,
                media_type="application/json",
                headers={"www-authenticate": "Bearer"},
            )
        except TransientError as error:
            logger.warning("agent tokens unreadable; the caller should retry",
                           extra={"json_fields": {"outcome": error.code}})  # fmt: skip
            return _json(503, error=error.code)
        body = await read_limited_body(request, app.settings.max_body_bytes)
        if body is None:
            return _json(413, error="payload_too_large")
        try:
            command = app.agent_desk.parse(body)
        except MalformedPayloadError as error:
            return _json(400, error=error.code, detail=str(error))
        if not caller.may_act_for(command.tenant_id):
            logger.warning(
                "agent token refused for this tenant",
                extra={
                    "json_fields": {
                        "outcome": "tenant_not_allowed",
                        "tenant_id": command.tenant_id,
                        "token_ref": caller.token_ref,
                    }
                },
            )
            return _json(
                403,
                error="tenant_not_allowed",
                detail=f"this agent API token may not act for tenant {command.tenant_id}",
            )
        try:
            outcome = await asyncio.to_thread(app.agent_desk.act, command, correlation_id)
        except MalformedPayloadError as error:
            return _json(400, error=error.code, detail=str(error))
        except SessionNotFoundError as error:
            return _json(404, error=error.code, detail=str(error))
        except InvalidTransitionError as error:
            logger.warning("agent action refused by the state machine",
                           extra={"json_fields": {"outcome": error.code}})  # fmt: skip
            return _json(409, error=error.code, detail=str(error))
        except TransientError as error:
            return _json(503, error=error.code)
        except PermanentError as error:
            return _json(400, error=error.code, detail=str(error))
        return _json(
            200,
            outcome=outcome.outcome,
            session_id=outcome.session_id,
            state=outcome.state,
            outbox_ids=list(outcome.outbox_ids),
        )


def _task_attempt(request: Request, settings: Settings) -> TaskAttempt:
    """Which attempt of its task this request is (atende.domain.task_attempt): from the
    Cloud Tasks headers, against the queue's configured max_attempts."""
    return attempt_from_headers(request.headers, settings.max_attempts)


async def serve_worker(request: Request, function_name: str) -> Response:
    """A Cloud Tasks target. On the task's last attempt, work that still fails becomes a dead
    letter and the answer is 200 `dead_lettered` (the use case records it)."""
    app = container(function_name)
    configure_logging(app.settings.log_level)
    correlation_id = request.headers.get(CORRELATION_HEADER) or new_correlation_id()
    with bind(correlation_id=correlation_id):
        try:
            app.task_authenticator(function_name).authenticate(request.headers)
        except ConfigurationError:
            logger.error("task authentication is not configured; refusing every call")
            return _json(500, outcome="misconfigured")
        except UnauthorizedCallerError as error:
            logger.warning("caller refused", extra={"json_fields": {"outcome": error.code}})
            return _json(401, outcome=error.code)
        body = await request.body()
        attempt = _task_attempt(request, app.settings)
        try:
            handler = app.worker_handler(function_name)
            outcome = await asyncio.to_thread(handler, body, correlation_id, attempt)
        except WaitingForEarlierReplyError as error:
            logger.info(
                "reply waits for an earlier one", extra={"json_fields": {"outcome": error.code}}
            )
            return _json(503, outcome=error.code)
        except TransientError as error:
            logger.warning(
                "transient failure; the queue will retry",
                extra={"json_fields": {"outcome": error.code, "attempt": attempt.number}},
            )
            return _json(503, outcome=error.code)
        except PermanentError as error:
            # Recorded by the use case; a 2xx stops the queue from retrying for nothing.
            logger.error("permanent failure", extra={"json_fields": {"outcome": error.code}})
            return _json(200, outcome=error.code)
        except Exception:
            logger.exception("unexpected failure; the queue will retry")
            return _json(500, outcome="unexpected_error")
        logger.debug("task done", extra={"json_fields": {"outcome": outcome}})
        return _json(200, outcome=outcome)


async def serve_job(request: Request, function_name: str) -> Response:
    """A scheduled job (Cloud Scheduler → HTTP, authenticated like a worker): 200 with its
    report, 503 when it should be retried."""
    app = container(function_name)
    configure_logging(app.settings.log_level)
    correlation_id = request.headers.get(CORRELATION_HEADER) or new_correlation_id()
    with bind(correlation_id=correlation_id):
        try:
            app.task_authenticator(function_name).authenticate(request.headers)
        except ConfigurationError:
            logger.error("job authentication is not configured; refusing every call")
            return _json(500, outcome="misconfigured")
        except UnauthorizedCallerError as error:
            logger.warning("caller refused", extra={"json_fields": {"outcome": error.code}})
            return _json(401, outcome=error.code)
        try:
            report = await asyncio.to_thread(app.job(function_name))
        except TransientError as error:
            logger.warning("job failed; retry", extra={"json_fields": {"outcome": error.code}})
            return _json(503, outcome=error.code)
        except PermanentError as error:
            logger.error("job failed", extra={"json_fields": {"outcome": error.code}})
            return _json(500, outcome=error.code)
        logger.info("job done", extra={"json_fields": {"job": function_name, **report}})
        return _json(200, outcome="done", **report)
