"""Builds realistic Messenger and Instagram webhook deliveries, for each product's `sample`
module (`atende simulate`) and the tests. Named so `atende simulate` does not take the shared
package for a channel (it looks for a `sample` module)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from atende.channels.graph.signature import SIGNATURE_HEADER, signature_for
from atende.errors import ConfigurationError
from atende.ports import SecretSource


def now_ms() -> int:
    return int(time.time() * 1000)


def text_item(
    contact: str,
    account_id: str,
    text: str,
    *,
    mid: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """One `messaging[]` item: a text message from `contact` to our account."""
    return {
        "sender": {"id": contact},
        "recipient": {"id": account_id},
        "timestamp": timestamp if timestamp is not None else now_ms(),
        "message": {"mid": mid or f"m_{uuid.uuid4().hex}", "text": text},
    }


def delivery(
    object_name: str, account_id: str, items: list[dict[str, Any]], *, key: str = "messaging"
) -> dict[str, Any]:
    """One entry for `account_id` carrying `items` under `key` (messaging, changes…)."""
    return {
        "object": object_name,
        "entry": [{"id": account_id, "time": now_ms(), key: items}],
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def signed_headers(body: bytes, secrets: SecretSource, app_secret: str) -> dict[str, str]:
    """The headers Meta sends with `body`, signed with the secret named `app_secret`."""
    secret = secrets.get(app_secret)
    if not secret:
        raise ConfigurationError(f"{app_secret} is not set")
    return {"content-type": "application/json", SIGNATURE_HEADER: signature_for(body, secret)}
