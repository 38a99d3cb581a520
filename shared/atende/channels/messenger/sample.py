"""Builds realistic, signed Messenger deliveries, for `atende simulate messenger` and the
tests."""

from __future__ import annotations

import json
from typing import Any

from atende.channels.base import SimulatedDelivery
from atende.channels.messenger.settings import APP_SECRET, PAGE_ACCESS_TOKEN, VERIFY_TOKEN
from atende.channels.meta import deliveries
from atende.ports import SecretSource

OBJECT = "page"
DEV_PAGE_ID = "108746935218864"


def text_message(
    contact: str, text: str, *, mid: str | None = None, timestamp: int | None = None
) -> dict[str, Any]:
    """One `messaging[]` item: a text a person sent the dev page."""
    return deliveries.text_item(contact, DEV_PAGE_ID, text, mid=mid, timestamp=timestamp)


def delivery(items: list[dict[str, Any]], *, page_id: str = DEV_PAGE_ID) -> dict[str, Any]:
    """Messaging items for one page, as the Messenger Platform sends them."""
    return deliveries.delivery(OBJECT, page_id, items)


def signed_headers(body: bytes, secrets: SecretSource) -> dict[str, str]:
    """The headers Meta sends with `body`, signed with the Messenger app secret."""
    return deliveries.signed_headers(body, secrets, APP_SECRET)


def simulated_delivery(text: str, contact: str, secrets: SecretSource) -> SimulatedDelivery:
    """What `atende simulate messenger` posts: one text message from `contact`."""
    body = deliveries.encode(delivery([text_message(contact, text)]))
    return SimulatedDelivery(body=body, headers=signed_headers(body, secrets))


def dev_env(sandbox_url: str) -> dict[str, str]:
    """The dev stack's settings and dev-only secrets: the dev account maps to the demo
    tenant and sends go to the sandbox's Graph API (which accepts the dev access token)."""
    return {
        "ATENDE_MESSENGER_TENANTS": json.dumps({DEV_PAGE_ID: "demo"}),
        "ATENDE_MESSENGER_API_BASE_URL": f"{sandbox_url}/graph/v23.0",
        APP_SECRET: "dev-messenger-app-secret",
        VERIFY_TOKEN: "dev-messenger-verify-token",
        PAGE_ACCESS_TOKEN: "dev-access-token",
    }
