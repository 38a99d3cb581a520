"""How the composition root builds this channel's webhook connector and provider API."""

from __future__ import annotations

from atende.channels.base import ChannelDeps
from atende.channels.whatsapp.client import WhatsAppCloudApi
from atende.channels.whatsapp.connector import WhatsAppConnector
from atende.channels.whatsapp.outbound import MAX_TEXT_BODY
from atende.channels.whatsapp.settings import (
    ACCESS_TOKEN,
    APP_SECRET,
    VERIFY_TOKEN,
    WhatsAppSettings,
)

#: The longest text message the channel sends, for the conversation engine and the AI.
TEXT_LIMIT = MAX_TEXT_BODY


#: The secrets each of this channel's functions reads ("webhook", "send" for
#: send_outbound, "process" for process_inbound, or a job's name): Terraform grants
#: exactly these, and a test checks it.
SECRETS: dict[str, tuple[str, ...]] = {
    "webhook": (APP_SECRET, VERIFY_TOKEN),
    "send": (ACCESS_TOKEN,),
}


def connector(deps: ChannelDeps) -> WhatsAppConnector:
    return WhatsAppConnector(deps.secrets, WhatsAppSettings().tenants)


def provider_api(deps: ChannelDeps) -> WhatsAppCloudApi:
    secrets = deps.secrets
    return WhatsAppCloudApi(WhatsAppSettings().api_base_url, lambda: secrets.get(ACCESS_TOKEN))
