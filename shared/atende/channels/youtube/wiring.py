"""How the composition root builds this channel's webhook connector and scheduled job.

No `provider_api`: WebSub only notifies; answering on YouTube (comments) needs the Data API
with the channel owner's OAuth consent, which this channel does not do.
"""

from __future__ import annotations

from collections.abc import Callable

from atende.channels.base import ChannelDeps, JobReport
from atende.channels.youtube.connector import YouTubeConnector
from atende.channels.youtube.hub import WebSubHub
from atende.channels.youtube.renew import JOB_NAME, SubscriptionRenewal
from atende.channels.youtube.settings import HUB_SECRET, YouTubeSettings
from atende.ports import QueueName

#: The secrets each of this channel's functions reads ("webhook", "send" for
#: send_outbound, "process" for process_inbound, or a job's name): Terraform grants
#: exactly these, and a test checks it.
SECRETS: dict[str, tuple[str, ...]] = {"webhook": (HUB_SECRET,), JOB_NAME: (HUB_SECRET,)}
#: The queues each of this channel's jobs enqueues to: the renewal job enqueues nothing.
QUEUES: dict[str, frozenset[QueueName]] = {JOB_NAME: frozenset()}


def connector(deps: ChannelDeps) -> YouTubeConnector:
    return YouTubeConnector(deps.secrets, YouTubeSettings().topics)


def jobs(deps: ChannelDeps) -> dict[str, Callable[[], JobReport]]:
    settings = YouTubeSettings()
    hub = WebSubHub(settings.hub_url, deps.settings.http_timeout_seconds)
    renewal = SubscriptionRenewal(settings, hub, deps.secrets, deps.state, deps.clock)
    return {JOB_NAME: renewal}
