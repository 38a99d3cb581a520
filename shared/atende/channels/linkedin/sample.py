"""Builds realistic, signed LinkedIn deliveries, for `atende simulate` and the tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets as random_ids
import time
from typing import Any

from atende.channels.base import SimulatedDelivery
from atende.channels.linkedin.parse import SOCIAL_ACTIONS
from atende.channels.linkedin.settings import ACCESS_TOKEN, CLIENT_SECRET
from atende.channels.linkedin.verify import SIGNATURE_HEADER
from atende.errors import ConfigurationError
from atende.ports import SecretSource

DEV_ORGANIZATION = "urn:li:organization:96072893"
#: `atende simulate linkedin` posts a comment: recorded for the CRM, answered by no bot.
EXPECTS_REPLY = False
DEV_SUBSCRIBER = "urn:li:person:zLqTygBP8S"
DEV_ACTIVITY = "urn:li:activity:7094637247890620418"
DEV_SHARE = "urn:li:share:7094637247487995904"


def signature_for(body: bytes, client_secret: str) -> str:
    """The X-LI-Signature LinkedIn sends: hex HMAC-SHA256 of "hmacsha256=" + body."""
    return hmac.new(client_secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()


def _random_id(digits: int) -> int:
    """A fresh numeric id of `digits` digits, like LinkedIn's."""
    low: int = 10 ** (digits - 1)
    return low + random_ids.randbelow(9 * low)


def person_urn(contact: str) -> str:
    return contact if contact.startswith("urn:li:") else f"urn:li:person:{contact}"


def comment_notification(
    actor: str,
    text: str,
    *,
    notification_id: int | None = None,
    comment_id: int | None = None,
    last_modified_at: int | None = None,
    organization: str = DEV_ORGANIZATION,
    action: str = "COMMENT",
) -> dict[str, Any]:
    """A member's comment on one of the organization's posts, as LinkedIn notifies it."""
    comment_number = comment_id if comment_id is not None else _random_id(19)
    comment_urn = f"urn:li:comment:({DEV_ACTIVITY},{comment_number})"
    return {
        "subscriber": DEV_SUBSCRIBER,
        "lastModifiedAt": (
            last_modified_at if last_modified_at is not None else int(time.time() * 1000)
        ),
        "decoratedSourcePost": {
            "owner": organization,
            "mediaCategory": "NONE",
            "text": "Novidades do nosso atendimento",
            "entity": DEV_SHARE,
        },
        "sourcePost": DEV_ACTIVITY,
        "decoratedGeneratedActivity": {
            "comment": {
                "owner": person_urn(actor),
                "text": text,
                "entity": comment_urn,
                "object": DEV_ACTIVITY,
            }
        },
        "action": action,
        "notificationId": (notification_id if notification_id is not None else _random_id(10)),
        "organizationalEntity": organization,
        "generatedActivity": comment_urn,
    }


def delivery(notifications: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": SOCIAL_ACTIONS, "notifications": notifications}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def signed_headers(body: bytes, secrets: SecretSource) -> dict[str, str]:
    """The headers LinkedIn sends with `body`, signed with the client secret."""
    secret = secrets.get(CLIENT_SECRET)
    if not secret:
        raise ConfigurationError(f"{CLIENT_SECRET} is not set")
    return {"content-type": "application/json", SIGNATURE_HEADER: signature_for(body, secret)}


def simulated_delivery(text: str, contact: str, secrets: SecretSource) -> SimulatedDelivery:
    """What `atende simulate linkedin` posts: one comment by `contact` on the dev post. A
    comment is recorded for the CRM, not answered by the bot."""
    body = encode(delivery([comment_notification(contact, text)]))
    return SimulatedDelivery(body=body, headers=signed_headers(body, secrets))


def dev_env(sandbox_url: str) -> dict[str, str]:
    """The dev stack's settings: the dev organization maps to the demo tenant, and comment
    replies go to the sandbox."""
    return {
        "ATENDE_LINKEDIN_TENANTS": json.dumps({DEV_ORGANIZATION: "demo"}),
        "ATENDE_LINKEDIN_API_BASE_URL": f"{sandbox_url}/linkedin",
        CLIENT_SECRET: "dev-linkedin-client-secret",
        ACCESS_TOKEN: "dev-access-token",
    }
