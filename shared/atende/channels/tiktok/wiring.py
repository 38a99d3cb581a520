"""TikTok's plugin: a webhook only. No provider API: TikTok offers no API that answers a
webhook event (see docs). The factory imports the channel's code when called (see
channels/plugin.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atende.channels.plugin import ChannelDeps, ChannelPlugin
from atende.channels.tiktok.settings import CLIENT_SECRET, TikTokSettings

if TYPE_CHECKING:
    from atende.channels.tiktok.connector import TikTokConnector


def _connector(deps: ChannelDeps) -> TikTokConnector:
    from atende.channels.tiktok.connector import TikTokConnector

    settings = TikTokSettings()
    return TikTokConnector(
        deps.secrets, settings.tenants, deps.clock, settings.signature_tolerance_seconds
    )


PLUGIN = ChannelPlugin(
    name="tiktok", connector=_connector, webhook_secrets=frozenset({CLIENT_SECRET})
)
