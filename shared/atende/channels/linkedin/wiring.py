"""LinkedIn's plugin: a webhook (comments on the organization's posts) and comment replies.
The factories import the channel's code when called (see channels/plugin.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atende.channels.linkedin.outbound import MAX_COMMENT_TEXT
from atende.channels.linkedin.settings import ACCESS_TOKEN, CLIENT_SECRET, LinkedInSettings
from atende.channels.plugin import ChannelDeps, ChannelPlugin

if TYPE_CHECKING:
    from atende.channels.linkedin.client import LinkedInCommentsApi
    from atende.channels.linkedin.connector import LinkedInConnector


def _connector(deps: ChannelDeps) -> LinkedInConnector:
    from atende.channels.linkedin.connector import LinkedInConnector

    return LinkedInConnector(deps.secrets, LinkedInSettings().tenants)


def _provider_api(deps: ChannelDeps) -> LinkedInCommentsApi:
    from atende.channels.linkedin.client import LinkedInCommentsApi

    settings = LinkedInSettings()
    secrets = deps.secrets
    return LinkedInCommentsApi(
        settings.api_base_url, settings.api_version, lambda: secrets.get(ACCESS_TOKEN)
    )


PLUGIN = ChannelPlugin(
    name="linkedin",
    connector=_connector,
    provider_api=_provider_api,
    # The longest text it sends is a comment.
    text_limit=MAX_COMMENT_TEXT,
    webhook_secrets=frozenset({CLIENT_SECRET}),
    send_secrets=frozenset({ACCESS_TOKEN}),
)
