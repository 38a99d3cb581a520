"""`atende simulate discord` posts a delivery the real webhook accepts and parses."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.discord import sample
from atende.channels.discord.connector import DiscordConnector
from atende.domain.events import MessageKind, MessageReceived
from atende.errors import ConfigurationError

PRIVATE, PUBLIC = sample.generate_key_pair()


class SystemLikeClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def secrets(**values: str) -> EnvSecretSource:
    return EnvSecretSource(environ=values, dotenv_path=None)


def test_the_public_key_is_derived_from_the_dev_private_key() -> None:
    assert sample.public_key_for(PRIVATE) == PUBLIC
    assert len(PUBLIC) == 64 and len(PRIVATE) == 64


def test_a_simulated_delivery_verifies_and_parses_as_a_slash_command() -> None:
    source = secrets(DISCORD_PUBLIC_KEY=PUBLIC, DISCORD_DEV_PRIVATE_KEY=PRIVATE)
    delivery = sample.simulated_delivery("Quero a segunda via", "53908232506183680", source)
    connector = DiscordConnector(source, {sample.DEV_APPLICATION_ID: "demo"}, SystemLikeClock())
    connector.verify(delivery.body, delivery.headers)
    (event,) = connector.parse(delivery.body, delivery.headers)
    assert isinstance(event, MessageReceived)
    assert (event.kind, event.text, event.choice_id) == (
        MessageKind.COMMAND,
        "Quero a segunda via",
        sample.DEV_COMMAND,
    )
    assert event.contact_id == "53908232506183680"
    assert connector.tenant_for(event) == "demo"
    # A fresh interaction: its token is good for 15 minutes from now.
    expires = datetime.fromisoformat(event.reply_context["expires_at"])
    assert 14 * 60 < (expires - datetime.now(UTC)).total_seconds() <= 15 * 60
    assert json.loads(connector.acknowledge(delivery.body, [event]).body) == {"type": 5}


def test_signing_needs_the_dev_private_key() -> None:
    with pytest.raises(ConfigurationError, match="DISCORD_DEV_PRIVATE_KEY"):
        sample.signed_headers(b"{}", secrets())
    with pytest.raises(ConfigurationError):
        sample.signed_headers(b"{}", secrets(DISCORD_DEV_PRIVATE_KEY="not hex"))


def test_a_dm_interaction_names_a_user_not_a_member() -> None:
    payload = sample.slash_command("53908232506183680", "Oi", in_guild=False)
    assert "member" not in payload and payload["user"]["id"] == "53908232506183680"
