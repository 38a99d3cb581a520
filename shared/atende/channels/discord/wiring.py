"""How the composition root builds this channel's webhook connector and provider API."""

from __future__ import annotations

from atende.channels.base import ChannelDeps
from atende.channels.discord.client import DiscordFollowupApi
from atende.channels.discord.connector import DiscordConnector
from atende.channels.discord.outbound import MAX_CONTENT
from atende.channels.discord.settings import PUBLIC_KEY, DiscordSettings

#: The longest text message the channel sends, for the conversation engine and the AI.
TEXT_LIMIT = MAX_CONTENT


#: The secrets each of this channel's functions reads ("webhook", "send" for
#: send_outbound, "process" for process_inbound, or a job's name): Terraform grants
#: exactly these, and a test checks it.
SECRETS: dict[str, tuple[str, ...]] = {"webhook": (PUBLIC_KEY,)}


def connector(deps: ChannelDeps) -> DiscordConnector:
    return DiscordConnector(deps.secrets, DiscordSettings().tenants, deps.clock)


def provider_api(deps: ChannelDeps) -> DiscordFollowupApi:
    return DiscordFollowupApi(DiscordSettings().api_base_url, deps.clock)
