"""Builds realistic, signed WhatsApp deliveries, for `atende simulate` and the tests."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from atende.channels.base import SimulatedDelivery
from atende.channels.graph.signature import SIGNATURE_HEADER, signature_for
from atende.channels.whatsapp.settings import APP_SECRET
from atende.errors import ConfigurationError
from atende.ports import SecretSource

DEV_PHONE_NUMBER_ID = "106540352242922"
DEV_DISPLAY_NUMBER = "15550783881"


def text_message(
    contact: str, text: str, *, message_id: str | None = None, timestamp: int | None = None
) -> dict[str, Any]:
    return {
        "from": contact,
        "id": message_id or f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": "text",
        "text": {"body": text},
    }


def _envelope(phone_number_id: str, **items: list[dict[str, Any]]) -> dict[str, Any]:
    """One entry with one `messages` change carrying `items` (messages, contacts, statuses)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DEV_DISPLAY_NUMBER,
            "phone_number_id": phone_number_id,
        },
        **items,
    }
    change = {"field": "messages", "value": value}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [change]}],
    }


def delivery(
    messages: list[dict[str, Any]],
    *,
    phone_number_id: str = DEV_PHONE_NUMBER_ID,
    contact_name: str = "Cliente Teste",
) -> dict[str, Any]:
    """Inbound messages, as the Cloud API sends them."""
    contacts = [
        {"profile": {"name": contact_name}, "wa_id": contact}
        for contact in dict.fromkeys(message["from"] for message in messages)
    ]
    return _envelope(phone_number_id, contacts=contacts, messages=messages)


def status_delivery(
    provider_message_id: str,
    status: str,
    recipient: str,
    *,
    callback_data: str | None = None,
    timestamp: int | None = None,
    phone_number_id: str = DEV_PHONE_NUMBER_ID,
) -> dict[str, Any]:
    """A status of one of our own messages, as the Cloud API sends it."""
    item: dict[str, Any] = {
        "id": provider_message_id,
        "status": status,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": recipient,
    }
    if callback_data is not None:
        item["biz_opaque_callback_data"] = callback_data
    return _envelope(phone_number_id, statuses=[item])


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def signed_headers(body: bytes, secrets: SecretSource) -> dict[str, str]:
    """The headers Meta sends with `body`, signed with the app secret."""
    secret = secrets.get(APP_SECRET)
    if not secret:
        raise ConfigurationError(f"{APP_SECRET} is not set")
    return {"content-type": "application/json", SIGNATURE_HEADER: signature_for(body, secret)}


def simulated_delivery(text: str, contact: str, secrets: SecretSource) -> SimulatedDelivery:
    """What `atende simulate whatsapp` posts: one text message from `contact`."""
    body = encode(delivery([text_message(contact, text)]))
    return SimulatedDelivery(body=body, headers=signed_headers(body, secrets))
