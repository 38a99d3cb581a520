"""Builds realistic, signed TikTok deliveries, for `atende simulate` and the tests."""

from __future__ import annotations

import base64
import json
import secrets as random_ids
import time
from typing import Any

from atende.channels.base import SimulatedDelivery
from atende.channels.tiktok.settings import CLIENT_SECRET
from atende.channels.tiktok.verify import SIGNATURE_HEADER, signature_for
from atende.errors import ConfigurationError
from atende.ports import SecretSource

DEV_CLIENT_KEY = "bwo2m45353a6k85"
DEV_OPENID = "act.example12345Example12345Example"


def header_for(body: bytes, client_secret: str, timestamp: int | None = None) -> str:
    """The TikTok-Signature value TikTok would send for `body` at `timestamp` (now)."""
    t = str(timestamp if timestamp is not None else int(time.time()))
    return f"t={t},s={signature_for(body, client_secret, t)}"


def event(
    name: str,
    content: dict[str, Any],
    *,
    create_time: int | None = None,
    user_openid: str | None = DEV_OPENID,
    client_key: str = DEV_CLIENT_KEY,
) -> dict[str, Any]:
    """One TikTok webhook event; `content` is serialized into a string, as TikTok does."""
    payload: dict[str, Any] = {
        "client_key": client_key,
        "event": name,
        "create_time": create_time if create_time is not None else int(time.time()),
    }
    if user_openid is not None:
        payload["user_openid"] = user_openid
    payload["content"] = json.dumps(content)
    return payload


def new_comment(video_id: int, *, comment_id: int | None = None, **kwargs: Any) -> dict[str, Any]:
    """A `comment.update` insert: someone commented on one of the account's videos."""
    comment = comment_id if comment_id is not None else 7 * 10**18 + random_ids.randbelow(10**18)
    content = {
        "comment_id": comment,
        "video_id": video_id,
        # 0 for a comment on the video itself; a reply names the comment it answers.
        "parent_comment_id": 0,
        "comment_type": "comment",
        "comment_action": "insert",
        "timestamp": int(time.time() * 1000),
        "unique_identifier": base64.b64encode(random_ids.token_bytes(48)).decode("ascii"),
    }
    return event("comment.update", content, **kwargs)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def signed_headers(body: bytes, secrets: SecretSource) -> dict[str, str]:
    """The headers TikTok sends with `body`, signed now with the client secret."""
    secret = secrets.get(CLIENT_SECRET)
    if not secret:
        raise ConfigurationError(f"{CLIENT_SECRET} is not set")
    return {"content-type": "application/json", SIGNATURE_HEADER: header_for(body, secret)}


def simulated_delivery(text: str, contact: str, secrets: SecretSource) -> SimulatedDelivery:
    """What `atende simulate tiktok` posts: a new comment on a video of the account `contact`
    authorized. TikTok's comment events carry no text, so `text` is not sent; the comment is
    recorded for the CRM, nothing is answered."""
    body = encode(new_comment(7_094_637_247_890_620_418, user_openid=contact))
    return SimulatedDelivery(body=body, headers=signed_headers(body, secrets))


def dev_env(sandbox_url: str) -> dict[str, str]:
    """The dev stack's settings: the dev app (client key) maps to the demo tenant."""
    return {
        "ATENDE_TIKTOK_TENANTS": json.dumps({DEV_CLIENT_KEY: "demo"}),
        CLIENT_SECRET: "dev-tiktok-client-secret",
    }
