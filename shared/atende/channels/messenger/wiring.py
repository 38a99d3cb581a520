"""How the composition root builds this channel's webhook connector and provider API."""

from __future__ import annotations

from atende.channels.base import ChannelDeps
from atende.channels.messenger.client import messenger_api
from atende.channels.messenger.connector import messenger_connector
from atende.channels.messenger.outbound import MAX_TEXT
from atende.channels.messenger.settings import PAGE_ACCESS_TOKEN, MessengerSettings
from atende.channels.meta.client import MetaSendApi
from atende.channels.meta.connector import MetaConnector

#: The longest text message the channel sends, for the conversation engine and the AI.
TEXT_LIMIT = MAX_TEXT


def connector(deps: ChannelDeps) -> MetaConnector:
    return messenger_connector(deps.secrets, MessengerSettings().tenants)


def provider_api(deps: ChannelDeps) -> MetaSendApi:
    secrets = deps.secrets
    return messenger_api(MessengerSettings().api_base_url, lambda: secrets.get(PAGE_ACCESS_TOKEN))
