"""How the composition root builds this channel's webhook connector and provider API."""

from __future__ import annotations

from atende.channels.base import ChannelDeps
from atende.channels.messenger.client import messenger_api
from atende.channels.messenger.connector import messenger_connector
from atende.channels.messenger.outbound import MAX_TEXT
from atende.channels.messenger.settings import (
    APP_SECRET,
    PAGE_ACCESS_TOKEN,
    VERIFY_TOKEN,
    MessengerSettings,
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
    "send": (PAGE_ACCESS_TOKEN,),
}


def connector(deps: ChannelDeps) -> MetaConnector:
    return messenger_connector(deps.secrets, MessengerSettings().tenants)


def provider_api(deps: ChannelDeps) -> MetaSendApi:
    secrets = deps.secrets
    return messenger_api(MessengerSettings().api_base_url, lambda: secrets.get(PAGE_ACCESS_TOKEN))
