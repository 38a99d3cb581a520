"""Builds realistic, signed Discord deliveries, for `atende simulate discord` and the tests.

Discord signs with the application's private key, which only Discord holds. Locally the dev
stack plays Discord: it generates a key pair (`generate_key_pair`), sets the public half as
`DISCORD_PUBLIC_KEY` (what the webhook verifies with) and the private half as the dev-only
`DISCORD_DEV_PRIVATE_KEY` (what this module signs with). Never set the latter in the cloud.
"""

from __future__ import annotations

import hashlib
import json
import secrets as random_tokens
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from atende.channels.base import SimulatedDelivery
from atende.channels.discord._common import DISCORD_EPOCH_MS
from atende.channels.discord.settings import DEV_PRIVATE_KEY, PUBLIC_KEY
from atende.channels.discord.verify import SIGNATURE_HEADER, TIMESTAMP_HEADER
from atende.errors import ConfigurationError
from atende.ports import SecretSource

DEV_APPLICATION_ID = "845027738276462632"
DEV_GUILD_ID = "772904309264089089"
DEV_CHANNEL_ID = "772908445358620702"
DEV_COMMAND_ID = "771825006014889984"
#: The slash command `atende simulate discord` uses: /atendimento mensagem:<text>.
DEV_COMMAND = "atendimento"
DEV_OPTION = "mensagem"

_OPTION_STRING = 3


# -- keys and signatures -------------------------------------------------------------------
def generate_key_pair() -> tuple[str, str]:
    """A fresh (private, public) Ed25519 key pair as hex, for tests and the dev stack."""
    private = Ed25519PrivateKey.generate()
    return private.private_bytes_raw().hex(), _public_hex(private)


def public_key_for(private_key_hex: str) -> str:
    """The public key (hex) that verifies what `private_key_hex` signs."""
    return _public_hex(_private(private_key_hex))


def signature_for(body: bytes, timestamp: str, private_key_hex: str) -> str:
    """The X-Signature-Ed25519 value Discord would send: Ed25519 over timestamp + body."""
    return _private(private_key_hex).sign(timestamp.encode("ascii") + body).hex()


def headers_for(body: bytes, private_key_hex: str, timestamp: int | None = None) -> dict[str, str]:
    """Discord's request headers for `body`, signed now (or at `timestamp`, Unix seconds)."""
    signed_at = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "content-type": "application/json",
        SIGNATURE_HEADER: signature_for(body, signed_at, private_key_hex),
        TIMESTAMP_HEADER: signed_at,
    }


def _private(private_key_hex: str) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_key_hex.strip()))
    except ValueError:
        raise ConfigurationError(f"{DEV_PRIVATE_KEY} is not 32 bytes of hex") from None


def _public_hex(private: Ed25519PrivateKey) -> str:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


# -- payloads ------------------------------------------------------------------------------
def snowflake(unix_seconds: float | None = None, increment: int = 0) -> str:
    """A Discord id created at `unix_seconds` (now by default)."""
    at = time.time() if unix_seconds is None else unix_seconds
    milliseconds = int(at * 1000) - DISCORD_EPOCH_MS
    return str((milliseconds << 22) | (increment & 0xFFF))


def _user(contact: str, username: str = "cliente.teste") -> dict[str, Any]:
    return {
        "id": contact,
        "username": username,
        "global_name": "Cliente Teste",
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
    }


def _interaction(
    kind: int,
    contact: str,
    data: dict[str, Any] | None,
    *,
    interaction_id: str | None,
    application_id: str,
    in_guild: bool,
) -> dict[str, Any]:
    """The fields every interaction has; a server interaction names a `member`, a DM a `user`."""
    payload: dict[str, Any] = {
        "id": interaction_id or snowflake(),
        "application_id": application_id,
        "type": kind,
        "token": random_tokens.token_urlsafe(96),
        "version": 1,
        "channel_id": DEV_CHANNEL_ID,
        "app_permissions": "442368",
        "locale": "pt-BR",
        "entitlements": [],
        "attachment_size_limit": 10485760,
    }
    if data is not None:
        payload["data"] = data
    if in_guild:
        payload["guild_id"] = DEV_GUILD_ID
        payload["guild_locale"] = "pt-BR"
        payload["context"] = 0
        payload["authorizing_integration_owners"] = {"0": DEV_GUILD_ID}
        payload["member"] = {
            "user": _user(contact),
            "roles": [],
            "premium_since": None,
            "permissions": "2147483647",
            "pending": False,
            "nick": None,
            "mute": False,
            "deaf": False,
            "joined_at": "2024-03-13T19:19:14.040000+00:00",
        }
    else:
        payload["context"] = 1
        payload["authorizing_integration_owners"] = {"1": contact}
        payload["user"] = _user(contact)
    return payload


def ping(application_id: str = DEV_APPLICATION_ID) -> dict[str, Any]:
    """The PING Discord sends when the Interactions Endpoint URL is saved, and at times."""
    return {
        "id": snowflake(),
        "application_id": application_id,
        "type": 1,
        "token": random_tokens.token_urlsafe(96),
        "version": 1,
        "user": _user("53908232506183680", "discord"),
    }


def slash_command(
    contact: str,
    text: str | None,
    *,
    command: str = DEV_COMMAND,
    option: str = DEV_OPTION,
    interaction_id: str | None = None,
    application_id: str = DEV_APPLICATION_ID,
    in_guild: bool = True,
) -> dict[str, Any]:
    """/command option:text (no option when `text` is None), as an APPLICATION_COMMAND."""
    data: dict[str, Any] = {"id": DEV_COMMAND_ID, "name": command, "type": 1}
    if text is not None:
        data["options"] = [{"type": _OPTION_STRING, "name": option, "value": text}]
    return _interaction(2, contact, data, interaction_id=interaction_id,
                        application_id=application_id, in_guild=in_guild)  # fmt: skip


def button_click(
    contact: str,
    custom_id: str,
    label: str,
    *,
    interaction_id: str | None = None,
    application_id: str = DEV_APPLICATION_ID,
    in_guild: bool = True,
) -> dict[str, Any]:
    """A click on one of our buttons, with the message it was attached to."""
    message = {
        "id": snowflake(increment=1),
        "type": 0,
        "channel_id": DEV_CHANNEL_ID,
        "content": "Como podemos ajudar?",
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": label, "custom_id": custom_id},
                ],
            }
        ],
    }
    payload = _interaction(3, contact, {"custom_id": custom_id, "component_type": 2},
                           interaction_id=interaction_id, application_id=application_id,
                           in_guild=in_guild)  # fmt: skip
    payload["message"] = message
    return payload


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


# -- `atende simulate discord` -----------------------------------------------------------
def _dev_private_key(secrets: SecretSource) -> str:
    private_key = secrets.get(DEV_PRIVATE_KEY)
    if not private_key:
        raise ConfigurationError(
            f"{DEV_PRIVATE_KEY} is not set (the dev stack sets it with DISCORD_PUBLIC_KEY)"
        )
    return private_key


def signed_headers(body: bytes, secrets: SecretSource) -> dict[str, str]:
    """The headers Discord sends with `body`, signed now with the dev private key."""
    return headers_for(body, _dev_private_key(secrets))


def simulated_delivery(text: str, contact: str, secrets: SecretSource) -> SimulatedDelivery:
    """What `atende simulate discord` posts: /atendimento mensagem:<text> from `contact`."""
    body = encode(slash_command(contact, text))
    return SimulatedDelivery(body=body, headers=signed_headers(body, secrets))


def dev_env(sandbox_url: str) -> dict[str, str]:
    """The dev stack's settings and dev-only keys. The dev key pair is derived from a fixed
    seed: it signs only simulated interactions on 127.0.0.1, never anything real."""
    private_key = hashlib.sha256(b"atende-dev-discord-interactions").hexdigest()
    return {
        "ATENDE_DISCORD_TENANTS": json.dumps({DEV_APPLICATION_ID: "demo"}),
        "ATENDE_DISCORD_API_BASE_URL": f"{sandbox_url}/discord/api/v10",
        PUBLIC_KEY: public_key_for(private_key),
        DEV_PRIVATE_KEY: private_key,
    }
