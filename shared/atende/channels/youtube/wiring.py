"""YouTube's plugin: a WebSub webhook and the job that renews its subscriptions.

No provider API: WebSub only notifies; answering on YouTube (comments) needs the Data API
with the channel owner's OAuth consent, which this channel does not do. The factories import
the channel's code when called (see channels/plugin.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atende.channels.plugin import ChannelDeps, ChannelPlugin, ScheduledJob
from atende.channels.youtube.settings import HUB_SECRET, JOB_NAME, YouTubeSettings

if TYPE_CHECKING:
    from atende.channels.youtube.connector import YouTubeConnector
    from atende.channels.youtube.renew import SubscriptionRenewal


def _connector(deps: ChannelDeps) -> YouTubeConnector:
    from atende.channels.youtube.connector import YouTubeConnector

    return YouTubeConnector(deps.secrets, YouTubeSettings().topics)


def _renewal(deps: ChannelDeps) -> SubscriptionRenewal:
    from atende.channels.youtube.hub import WebSubHub
    from atende.channels.youtube.renew import SubscriptionRenewal

    settings = YouTubeSettings()
    hub = WebSubHub(settings.hub_url, deps.settings.http_timeout_seconds)
    return SubscriptionRenewal(settings, hub, deps.secrets, deps.state, deps.clock)


PLUGIN = ChannelPlugin(
    name="youtube",
    connector=_connector,
    webhook_secrets=frozenset({HUB_SECRET}),
    jobs=(
        # It asks the hub to renew; it enqueues nothing.
        ScheduledJob(JOB_NAME, _renewal, secrets=frozenset({HUB_SECRET}), queues=frozenset()),
    ),
)
