"""How the composition root builds this channel's webhook connector and provider API."""

from __future__ import annotations

from atende.channels.base import ChannelDeps
from atende.channels.instagram.client import instagram_api
from atende.channels.instagram.connector import instagram_connector
from atende.channels.instagram.outbound import MAX_TEXT
from atende.channels.instagram.settings import (
    ACCESS_TOKEN,
    APP_SECRET,
    VERIFY_TOKEN,
    InstagramSettings,
)
from atende.channels.meta.client import MetaSendApi
from atende.channels.meta.connector import MetaConnector

#: The longest text message the channel sends, for the conversation engine and the AI.
TEXT_LIMIT = MAX_TEXT


#: The secrets each of this channel's functions reads ("webhook", "send" for
#: send_outbound, "process" for process_inbound, or a job's name): Terraform grants
#: exactly these, and a test checks it.
SECRETS: dict[str, tuple[str, ...]] = {
    "webhook": (APP_SECRET, VERIFY_TOKEN),
    "send": (ACCESS_TOKEN,),
}


def connector(deps: ChannelDeps) -> MetaConnector:
    return instagram_connector(deps.secrets, InstagramSettings().tenants)


def provider_api(deps: ChannelDeps) -> MetaSendApi:
    secrets = deps.secrets
    settings = InstagramSettings()
    return instagram_api(
        settings.api_base_url, lambda: secrets.get(ACCESS_TOKEN), settings.page_ids
    )
