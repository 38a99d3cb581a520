"""Builds realistic, signed Instagram deliveries, for `atende simulate instagram` and the
tests."""

from __future__ import annotations

import json
from typing import Any

from atende.channels.base import SimulatedDelivery
from atende.channels.instagram.settings import ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN
from atende.channels.meta import deliveries
from atende.ports import SecretSource

OBJECT = "instagram"
DEV_ACCOUNT_ID = "17841405822304914"


def text_message(
    contact: str, text: str, *, mid: str | None = None, timestamp: int | None = None
) -> dict[str, Any]:
    """One `messaging[]` item: a direct message a person sent the dev account."""
    return deliveries.text_item(contact, DEV_ACCOUNT_ID, text, mid=mid, timestamp=timestamp)


def delivery(items: list[dict[str, Any]], *, account_id: str = DEV_ACCOUNT_ID) -> dict[str, Any]:
    """Messaging items for one account, as Instagram Messaging sends them."""
    return deliveries.delivery(OBJECT, account_id, items)


def comment_delivery(
    contact: str,
    text: str,
    *,
    comment_id: str,
    media_id: str,
    live: bool = False,
    account_id: str = DEV_ACCOUNT_ID,
) -> dict[str, Any]:
    """A comment (or live comment) on the account's media, as a `changes[]` entry."""
    change = {
        "field": "live_comments" if live else "comments",
        "value": {
            "from": {"id": contact, "username": "cliente.teste"},
            "media": {"id": media_id, "media_product_type": "FEED"},
            "id": comment_id,
            "text": text,
        },
    }
    return deliveries.delivery(OBJECT, account_id, [change], key="changes")


def signed_headers(body: bytes, secrets: SecretSource) -> dict[str, str]:
    """The headers Meta sends with `body`, signed with the Instagram app secret."""
    return deliveries.signed_headers(body, secrets, APP_SECRET)


def simulated_delivery(text: str, contact: str, secrets: SecretSource) -> SimulatedDelivery:
    """What `atende simulate instagram` posts: one direct message from `contact`."""
    body = deliveries.encode(delivery([text_message(contact, text)]))
    return SimulatedDelivery(body=body, headers=signed_headers(body, secrets))


def dev_env(sandbox_url: str) -> dict[str, str]:
    """The dev stack's settings and dev-only secrets: the dev account maps to the demo
    tenant and sends go to the sandbox's Graph API (which accepts the dev access token)."""
    return {
        "ATENDE_INSTAGRAM_TENANTS": json.dumps({DEV_ACCOUNT_ID: "demo"}),
        "ATENDE_INSTAGRAM_API_BASE_URL": f"{sandbox_url}/graph/v23.0",
        APP_SECRET: "dev-instagram-app-secret",
        VERIFY_TOKEN: "dev-instagram-verify-token",
        ACCESS_TOKEN: "dev-access-token",
    }
