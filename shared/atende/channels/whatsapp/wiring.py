"""WhatsApp's plugin: a webhook and the Cloud API send call. The factories import the
channel's code when called (see channels/plugin.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atende.channels.plugin import ChannelDeps, ChannelPlugin
from atende.channels.whatsapp.outbound import MAX_TEXT_BODY
from atende.channels.whatsapp.settings import (
    ACCESS_TOKEN,
    APP_SECRET,
    VERIFY_TOKEN,
    WhatsAppSettings,
)

if TYPE_CHECKING:
    from atende.channels.whatsapp.client import WhatsAppCloudApi
    from atende.channels.whatsapp.connector import WhatsAppConnector


def _connector(deps: ChannelDeps) -> WhatsAppConnector:
    from atende.channels.whatsapp.connector import WhatsAppConnector

    return WhatsAppConnector(deps.secrets, WhatsAppSettings().tenants)


def _provider_api(deps: ChannelDeps) -> WhatsAppCloudApi:
    from atende.channels.whatsapp.client import WhatsAppCloudApi

    secrets = deps.secrets
    return WhatsAppCloudApi(WhatsAppSettings().api_base_url, lambda: secrets.get(ACCESS_TOKEN))


PLUGIN = ChannelPlugin(
    name="whatsapp",
    connector=_connector,
    provider_api=_provider_api,
    text_limit=MAX_TEXT_BODY,
    webhook_secrets=frozenset({APP_SECRET, VERIFY_TOKEN}),
    send_secrets=frozenset({ACCESS_TOKEN}),
)
