"""Messenger's plugin: a webhook and the Send API. The factories import the channel's code
when called (see channels/plugin.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atende.channels.messenger.outbound import MAX_TEXT
from atende.channels.messenger.settings import (
    APP_SECRET,
    PAGE_ACCESS_TOKEN,
    VERIFY_TOKEN,
    MessengerSettings,
)
from atende.channels.plugin import ChannelDeps, ChannelPlugin

if TYPE_CHECKING:
    from atende.channels.meta.client import MetaSendApi
    from atende.channels.meta.connector import MetaConnector


def _connector(deps: ChannelDeps) -> MetaConnector:
    from atende.channels.messenger.connector import messenger_connector

    return messenger_connector(deps.secrets, MessengerSettings().tenants)


def _provider_api(deps: ChannelDeps) -> MetaSendApi:
    from atende.channels.messenger.client import messenger_api

    secrets = deps.secrets
    return messenger_api(MessengerSettings().api_base_url, lambda: secrets.get(PAGE_ACCESS_TOKEN))


PLUGIN = ChannelPlugin(
    name="messenger",
    connector=_connector,
    provider_api=_provider_api,
    text_limit=MAX_TEXT,
    webhook_secrets=frozenset({APP_SECRET, VERIFY_TOKEN}),
    send_secrets=frozenset({PAGE_ACCESS_TOKEN}),
)
