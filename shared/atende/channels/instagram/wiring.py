"""Instagram's plugin: a webhook (messages and comments) and the Send API with comment
replies. The factories import the channel's code when called (see channels/plugin.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atende.channels.instagram.outbound import MAX_TEXT
from atende.channels.instagram.settings import (
    ACCESS_TOKEN,
    APP_SECRET,
    VERIFY_TOKEN,
    InstagramSettings,
)
from atende.channels.plugin import ChannelDeps, ChannelPlugin

if TYPE_CHECKING:
    from atende.channels.meta.client import MetaSendApi
    from atende.channels.meta.connector import MetaConnector


def _connector(deps: ChannelDeps) -> MetaConnector:
    from atende.channels.instagram.connector import instagram_connector

    return instagram_connector(deps.secrets, InstagramSettings().tenants)


def _provider_api(deps: ChannelDeps) -> MetaSendApi:
    from atende.channels.instagram.client import instagram_api

    secrets = deps.secrets
    settings = InstagramSettings()
    return instagram_api(
        settings.api_base_url, lambda: secrets.get(ACCESS_TOKEN), settings.page_ids
    )


PLUGIN = ChannelPlugin(
    name="instagram",
    connector=_connector,
    provider_api=_provider_api,
    text_limit=MAX_TEXT,
    webhook_secrets=frozenset({APP_SECRET, VERIFY_TOKEN}),
    send_secrets=frozenset({ACCESS_TOKEN}),
)
