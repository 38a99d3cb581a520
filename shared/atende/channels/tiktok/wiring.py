"""How the composition root builds this channel's webhook connector. No `provider_api` and
no `TEXT_LIMIT`: TikTok offers no API that answers a webhook event (see docs)."""

from __future__ import annotations

from atende.channels.base import ChannelDeps
from atende.channels.tiktok.connector import TikTokConnector
from atende.channels.tiktok.settings import CLIENT_SECRET, TikTokSettings

#: The secrets each of this channel's functions reads ("webhook", "send" for
#: send_outbound, "process" for process_inbound, or a job's name): Terraform grants
#: exactly these, and a test checks it.
SECRETS: dict[str, tuple[str, ...]] = {"webhook": (CLIENT_SECRET,)}


def connector(deps: ChannelDeps) -> TikTokConnector:
    settings = TikTokSettings()
    return TikTokConnector(
        deps.secrets, settings.tenants, deps.clock, settings.signature_tolerance_seconds
    )
