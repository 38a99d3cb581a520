"""What a channel declares to the rest of the system: one typed `PLUGIN` in each channel's
`wiring.py`, listed in channels/registry.py.

A declaration says what the channel has (a webhook, a provider API, a calendar sync, scheduled
jobs), what it reads and enqueues to, and how the composition root builds each part: a part
the channel lacks is None, so no caller guesses from a module's attributes. `atende.deployment`
derives every function's secrets and queues from these declarations, and Terraform must match.

The factories import their channel's code when called, not the declaration: reading every
declaration (the deployment, the look-up of a job) stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atende.config import Settings
from atende.ports import (
    CalendarSync,
    ChannelStateStore,
    Clock,
    ProviderApi,
    QueueName,
    SecretSource,
    TaskQueue,
    WebhookConnector,
)

#: A scheduled job's result: PII-free counts for the log and the HTTP answer.
JobReport = dict[str, Any]


@dataclass(frozen=True)
class ChannelDeps:
    """What a plugin's factories may use to build the channel's parts."""

    settings: Settings
    secrets: SecretSource
    clock: Clock
    #: Firestore-backed state a channel keeps between calls (sync tokens, subscriptions);
    #: built on first use, so a webhook that never needs it never connects.
    state: Callable[[], ChannelStateStore]
    #: The task queue, for jobs that turn what they find into processing tasks.
    tasks: Callable[[], TaskQueue]


@dataclass(frozen=True)
class ScheduledJob:
    """A channel's scheduled job, deployed as a function of its own (Cloud Scheduler calls it
    over HTTP, functions/<name>/main.py)."""

    #: The function's name, unique among all functions.
    name: str
    build: Callable[[ChannelDeps], Callable[[], JobReport]]
    #: The secrets it reads: Terraform grants exactly these, and a test checks it.
    secrets: frozenset[str]
    #: The queues it enqueues to (a changed calendar becomes a processing task…).
    queues: frozenset[QueueName]


@dataclass(frozen=True)
class ChannelPlugin:
    """One channel: its parts and what each of its functions may read.

    The secrets are per function the channel's code runs in: its webhook (`<name>_webhook`),
    `send_outbound` (its provider API) and `process_inbound` (its calendar sync); a job
    declares its own."""

    #: The channel's name: its package under atende.channels, and events' `channel`.
    name: str
    #: Its webhook connector; None: providers call no webhook (no `<name>_webhook` function).
    connector: Callable[[ChannelDeps], WebhookConnector] | None = None
    #: The provider API send_outbound calls; None: the channel sends nothing (a record for
    #: it has no sender).
    provider_api: Callable[[ChannelDeps], ProviderApi] | None = None
    #: The longest text message it sends, for the conversation engine and the AI; a channel
    #: that sends declares one, and only such a channel.
    text_limit: int | None = None
    #: Reads a calendar's changes (process_inbound, the channel's jobs).
    calendar_sync: Callable[[ChannelDeps], CalendarSync] | None = None
    webhook_secrets: frozenset[str] = frozenset()
    send_secrets: frozenset[str] = frozenset()
    process_secrets: frozenset[str] = frozenset()
    jobs: tuple[ScheduledJob, ...] = ()

    def __post_init__(self) -> None:
        # Checked when the wiring is imported: a declaration that cannot be deployed as
        # written fails every test that loads it, not a deploy.
        if (self.provider_api is None) != (self.text_limit is None):
            raise ValueError(f"channel {self.name}: a provider API needs a text limit, and only it")
        if self.text_limit is not None and self.text_limit < 1:
            raise ValueError(f"channel {self.name}: the text limit must be positive")
        if self.webhook_secrets and self.connector is None:
            raise ValueError(f"channel {self.name}: webhook secrets, but no webhook")
        if self.send_secrets and self.provider_api is None:
            raise ValueError(f"channel {self.name}: send secrets, but no provider API")
        names = [job.name for job in self.jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"channel {self.name}: job names repeat ({sorted(names)})")
