"""Discord's plugin: a webhook (interactions and Webhook Events) and follow-up messages.
The factories import the channel's code when called (see channels/plugin.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atende.channels.discord.outbound import MAX_CONTENT
from atende.channels.discord.settings import PUBLIC_KEY, DiscordSettings
from atende.channels.plugin import ChannelDeps, ChannelPlugin

if TYPE_CHECKING:
    from atende.channels.discord.client import DiscordFollowupApi
    from atende.channels.discord.connector import DiscordConnector


def _connector(deps: ChannelDeps) -> DiscordConnector:
    from atende.channels.discord.connector import DiscordConnector

    return DiscordConnector(deps.secrets, DiscordSettings().tenants, deps.clock)


def _provider_api(deps: ChannelDeps) -> DiscordFollowupApi:
    from atende.channels.discord.client import DiscordFollowupApi

    # No secret: a follow-up is authorized by the interaction's own token.
    return DiscordFollowupApi(DiscordSettings().api_base_url, deps.clock)


PLUGIN = ChannelPlugin(
    name="discord",
    connector=_connector,
    provider_api=_provider_api,
    text_limit=MAX_CONTENT,
    webhook_secrets=frozenset({PUBLIC_KEY}),
)
