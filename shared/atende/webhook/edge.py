"""The webhook use case: verify, parse, enqueue the events (webhook/batcher.py),
answer fast.

Whatever a correctly signed body holds, the answer is 2xx or 4xx unless enqueueing failed:
lone surrogates are replaced by U+FFFD (`_parse`, atende/json_text.py), and every event is
made to fit a task (webhook/task_bodies.py).

No session work, no outbound call and no AI here: this is what providers wait on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from atende.domain.events import InboundEvent, UnsupportedEvent
from atende.errors import (
    ConfigurationError,
    MalformedPayloadError,
    SignatureError,
    TransientError,
)
from atende.json_text import without_lone_surrogates
from atende.observability.context import bind
from atende.ports import AsyncTaskQueue, Clock, QueueName, WebhookConnector, WebhookResponse
from atende.tasks.contracts import InboundTask
from atende.webhook.batcher import InboundBatcher

logger = logging.getLogger(__name__)

#: The queues this hop enqueues to: each accepted event (or batch of them) becomes a
#: processing task. atende.deployment grants exactly these to the function, infra/ must
#: match, and the local stack refuses the rest.
ENQUEUES: frozenset[QueueName] = frozenset({"inbound"})

#: The tenant of unsupported events whose provider account we could not read.
UNASSIGNED_TENANT = "_unassigned"


@dataclass(frozen=True)
class EdgeRequest:
    method: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class WebhookEdge:
    def __init__(
        self, connector: WebhookConnector, queue: AsyncTaskQueue, max_body_bytes: int, clock: Clock
    ) -> None:
        self._connector = connector
        self._batcher = InboundBatcher(queue)
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    async def handle(self, request: EdgeRequest, correlation_id: str) -> WebhookResponse:
        with bind(channel=self._connector.channel, correlation_id=correlation_id):
            if request.method == "GET":
                return self._handshake(request)
            if request.method == "POST":
                return await self._deliver(request, correlation_id)
            return WebhookResponse(405, "method not allowed")

    def _handshake(self, request: EdgeRequest) -> WebhookResponse:
        try:
            answer = self._connector.handshake(request.query)
        except ConfigurationError:
            logger.error("webhook verification token is not configured; refusing handshake")
            return WebhookResponse(403, "forbidden")
        except SignatureError:
            logger.warning(
                "handshake refused", extra={"json_fields": {"outcome": "rejected_handshake"}}
            )
            return WebhookResponse(403, "forbidden")
        return answer if isinstance(answer, WebhookResponse) else WebhookResponse(200, answer)

    async def _deliver(self, request: EdgeRequest, correlation_id: str) -> WebhookResponse:
        if len(request.body) > self._max_body_bytes:
            return _rejected(413, "payload_too_large")
        try:
            self._connector.verify(request.body, request.headers)
        except ConfigurationError:
            logger.error(
                "webhook secret is not configured; refusing every delivery",
                extra={"json_fields": {"outcome": "misconfigured"}},
            )
            return WebhookResponse(500, "not configured")
        except SignatureError as error:
            return _rejected(401, error.code)
        try:
            body, events = self._parse(request.body, request.headers)
        except MalformedPayloadError as error:
            return _rejected(400, error.code)
        received_at = self._clock.now()
        tasks = [
            task for event in events if (task := self._task(event, received_at, correlation_id))
        ]
        try:
            await self._batcher.enqueue(tasks, correlation_id)
        except TransientError:
            logger.error(
                "enqueue failed; asking the provider to retry",
                extra={"json_fields": {"outcome": "enqueue_failed"}},
            )
            return WebhookResponse(503, "retry later")
        # DEBUG: the platform's request log already has every delivery's status and latency.
        logger.debug(
            "delivery accepted",
            extra={
                "json_fields": {"outcome": "enqueued", "events": len(events), "tasks": len(tasks)}
            },
        )
        return self._connector.acknowledge(body, events)

    def _parse(self, body: bytes, headers: Mapping[str, str]) -> tuple[bytes, list[InboundEvent]]:
        """The events, and the body they were parsed from. A JSON body can decode to lone
        surrogates, which no UTF-8 encoding (a hash, a task body) takes: a parser that
        failed on one parses the body again with each replaced by U+FFFD
        (atende/json_text.py), for every channel, at no cost to the usual body. Events
        that merely carry one are repaired where they are serialized
        (webhook/task_bodies.py)."""
        try:
            return body, self._connector.parse(body, headers)
        except UnicodeEncodeError:
            repaired = without_lone_surrogates(body)
        try:
            return repaired, self._connector.parse(repaired, headers)
        except UnicodeEncodeError:
            raise MalformedPayloadError("body holds text that cannot be encoded") from None

    def _task(
        self, event: InboundEvent, received_at: datetime, correlation_id: str
    ) -> InboundTask | None:
        tenant = self._connector.tenant_for(event)
        if tenant is None and isinstance(event, UnsupportedEvent):
            # Kept and audited even when no account can be read from it: never lost.
            tenant = UNASSIGNED_TENANT
        if tenant is None:
            logger.warning(
                "event for an unknown account acknowledged, not processed",
                extra={"json_fields": {"outcome": "unknown_account", "event_type": event.type}},
            )
            return None
        return InboundTask(
            tenant_id=tenant, event=event, received_at=received_at, correlation_id=correlation_id
        )


def _rejected(status: int, reason: str) -> WebhookResponse:
    logger.warning("delivery rejected", extra={"json_fields": {"outcome": f"rejected_{reason}"}})
    return WebhookResponse(status, reason)
