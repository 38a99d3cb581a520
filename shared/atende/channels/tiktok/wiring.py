"""How the composition root builds this channel's webhook connector. No `provider_api` and
no `TEXT_LIMIT`: TikTok offers no API that answers a webhook event (see docs)."""

from __future__ import annotations

from atende.channels.base import ChannelDeps
from atende.channels.tiktok.connector import TikTokConnector
from atende.channels.tiktok.settings import TikTokSettings


def connector(deps: ChannelDeps) -> TikTokConnector:
    settings = TikTokSettings()
    return TikTokConnector(
        deps.secrets, settings.tenants, deps.clock, settings.signature_tolerance_seconds
    )
