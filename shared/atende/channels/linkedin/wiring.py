"""How the composition root builds this channel's webhook connector and provider API."""

from __future__ import annotations

from atende.channels.base import ChannelDeps
from atende.channels.linkedin.client import LinkedInCommentsApi
from atende.channels.linkedin.connector import LinkedInConnector
from atende.channels.linkedin.outbound import MAX_COMMENT_TEXT
from atende.channels.linkedin.settings import ACCESS_TOKEN, CLIENT_SECRET, LinkedInSettings

#: The longest text the channel sends (a comment), for the conversation engine and the AI.
TEXT_LIMIT = MAX_COMMENT_TEXT


#: The secrets each of this channel's functions reads ("webhook", "send" for
#: send_outbound, "process" for process_inbound, or a job's name): Terraform grants
#: exactly these, and a test checks it.
SECRETS: dict[str, tuple[str, ...]] = {"webhook": (CLIENT_SECRET,), "send": (ACCESS_TOKEN,)}


def connector(deps: ChannelDeps) -> LinkedInConnector:
    return LinkedInConnector(deps.secrets, LinkedInSettings().tenants)


def provider_api(deps: ChannelDeps) -> LinkedInCommentsApi:
    settings = LinkedInSettings()
    secrets = deps.secrets
    return LinkedInCommentsApi(
        settings.api_base_url, settings.api_version, lambda: secrets.get(ACCESS_TOKEN)
    )
