"""What the endpoint answers Discord, inside its 3-second limit.

An interaction must be answered at once with an interaction response, but our answer comes
from the conversation seconds later, through the outbound function. So the endpoint defers:
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE (5, the contact sees "thinking…") for commands and modal
submits, DEFERRED_UPDATE_MESSAGE (6, nothing shown) for components; the reply then goes out as
a follow-up with the interaction token. Webhook Events want 204 and no body.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

from atende.channels.discord._interactions import InteractionType, interaction_type
from atende.channels.discord._webhook_events import is_webhook_event
from atende.ports import WebhookResponse

JSON = "application/json"


class CallbackType(IntEnum):
    """Discord's interaction callback types we answer with."""

    PONG = 1
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8


def _callback(kind: CallbackType, data: dict[str, Any] | None = None) -> WebhookResponse:
    body: dict[str, Any] = {"type": int(kind)}
    if data is not None:
        body["data"] = data
    return WebhookResponse(200, json.dumps(body), JSON)


PONG = _callback(CallbackType.PONG)
DEFERRED_MESSAGE = _callback(CallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE)
DEFERRED_UPDATE = _callback(CallbackType.DEFERRED_UPDATE_MESSAGE)
NO_SUGGESTIONS = _callback(CallbackType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT, {"choices": []})
#: Webhook Events (PING included) are acknowledged with 204 and an empty body.
WEBHOOK_EVENT_RECEIVED = WebhookResponse(204, "", "text/plain")
#: An interaction nothing will answer (an unknown type, an unknown application, a shape we
#: cannot read): not an interaction response, so Discord tells the contact it failed, which
#: is true, instead of showing "thinking…" until the token expires.
NOT_ANSWERED = WebhookResponse(204, "", "text/plain")


def acknowledgement(payload: dict[str, Any], answered: bool) -> WebhookResponse:
    """The answer to a delivery whose events are enqueued; `answered` says whether one of them
    is a message the conversation will reply to."""
    if is_webhook_event(payload):
        return WEBHOOK_EVENT_RECEIVED
    kind = interaction_type(payload)
    if kind == InteractionType.PING:
        return PONG
    if kind == InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE:
        return NO_SUGGESTIONS
    if not answered:
        # A component, command or modal of an application we do not serve (or one we cannot
        # read): any callback, even the silent DEFERRED_UPDATE_MESSAGE, acknowledges it as
        # handled ("ACK an interaction and edit the original message later", Discord's
        # interaction callback types), and nothing will follow it.
        return NOT_ANSWERED
    if kind == InteractionType.MESSAGE_COMPONENT:
        return DEFERRED_UPDATE
    if kind in (InteractionType.APPLICATION_COMMAND, InteractionType.MODAL_SUBMIT):
        return DEFERRED_MESSAGE
    return NOT_ANSWERED
