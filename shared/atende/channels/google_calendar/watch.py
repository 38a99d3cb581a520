"""The `google_calendar_watch` job: keep one live push channel on each configured calendar.

Google channels expire (7 days by default) and cannot be renewed: a new channel with a new
id must replace the old one. For each calendar in `ATENDE_GOOGLE_CALENDAR_CALENDARS` the job
creates a channel (events.watch) when none is stored, when the stored one expires within
the margin, or when it was made for another tenant or channel secret; stores it as channel
state `google_calendar:watch:<calendar id>` (id, resourceId, expiration); and only then
stops the old one (channels.stop), so there is never a moment without a channel. A stored
channel of a calendar no longer configured is stopped.

Google also warns that a few notices get lost, and that an application must still sync
without them: every run asks for one sync of each calendar too (a `CalendarSyncRequested`
task, like a notice would), so a lost notice delays a change by one run at most.

Schedule it well inside the margin (every 6 hours with the default 1-day margin). Two runs
at once may both replace a channel; one of the new channels is then left to expire, which
costs duplicate notices (harmless: the sync is idempotent), never a missed one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from atende.channels.google_calendar.api import CalendarApi
from atende.channels.google_calendar.channel_ids import (
    calendar_hash,
    calendar_ref,
    channel_id,
    channel_prefix,
    channel_token,
)
from atende.channels.google_calendar.parse import CHANNEL
from atende.channels.google_calendar.settings import (
    CHANNEL_SECRET,
    JOB_NAME,
    GoogleCalendarSettings,
)
from atende.channels.plugin import JobReport
from atende.domain import keys
from atende.domain.events import CalendarSyncRequested
from atende.errors import AtendeError, ConfigurationError, ProviderTransientError, TransientError
from atende.observability.context import current, new_correlation_id
from atende.ports import ChannelStateStore, Clock, SecretSource, TaskQueue, TaskRequest
from atende.tasks.contracts import PROCESS_INBOUND, InboundTask

logger = logging.getLogger(__name__)

WATCH_PREFIX = "google_calendar:watch:"


def watch_key(calendar_id: str) -> str:
    return f"{WATCH_PREFIX}{calendar_id}"


def token_digest(token: str) -> str:
    """What the stored channel keeps of its token: enough to notice a rotated secret."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _expiration(value: object) -> int | None:
    """Google sends int64 fields as strings in JSON (its documentation shows a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


@dataclass
class _Counts:
    calendars: int = 0
    created: int = 0
    renewed: int = 0
    kept: int = 0
    stopped: int = 0
    failed: int = 0
    syncs_requested: int = 0
    transient: list[str] = field(default_factory=list)

    def report(self) -> JobReport:
        return {
            "calendars": self.calendars,
            "created": self.created,
            "renewed": self.renewed,
            "kept": self.kept,
            "stopped": self.stopped,
            "failed": self.failed,
            "syncs_requested": self.syncs_requested,
        }


class WatchRenewer:
    """The job itself: `WatchRenewer(...)()` returns its PII-free report."""

    def __init__(
        self,
        api: CalendarApi,
        settings: GoogleCalendarSettings,
        secrets: SecretSource,
        state: Callable[[], ChannelStateStore],
        tasks: Callable[[], TaskQueue],
        clock: Clock,
    ) -> None:
        self._api = api
        self._settings = settings
        self._secrets = secrets
        self._state = state
        self._tasks = tasks
        self._clock = clock

    def __call__(self) -> JobReport:
        secret = self._secrets.get(CHANNEL_SECRET)
        if not secret:
            raise ConfigurationError(f"{CHANNEL_SECRET} is not configured")
        address = self._settings.webhook_url
        if not address:
            raise ConfigurationError("ATENDE_GOOGLE_CALENDAR_WEBHOOK_URL is not configured")
        store = self._state()
        counts = _Counts(calendars=len(self._settings.calendars))
        for calendar, tenant in self._settings.calendars.items():
            keep = partial(self._keep_watched, store, secret, address, calendar, tenant, counts)
            self._guarded(counts, calendar, keep)
        for key, stored in store.with_prefix(WATCH_PREFIX).items():
            calendar = key.removeprefix(WATCH_PREFIX)
            if calendar not in self._settings.calendars and stored.get("id"):
                self._guarded(counts, calendar, partial(self._retire, store, key, stored, counts))
        for calendar in self._settings.calendars:
            self._guarded(counts, calendar, partial(self._request_sync, calendar, counts))
        report = counts.report()
        if counts.transient:
            logger.warning("watch job incomplete", extra={"json_fields": report})
            raise ProviderTransientError(
                f"{len(counts.transient)} calendar step(s) failed transiently",
                code="google_watch_incomplete",
            )
        return report

    def _guarded(self, counts: _Counts, calendar: str, step: Callable[[], None]) -> None:
        """One calendar's failure never stops the others."""
        try:
            step()
        except TransientError as error:
            counts.failed += 1
            counts.transient.append(error.code)
            self._log_failure(calendar, error, logging.WARNING)
        except AtendeError as error:
            counts.failed += 1
            self._log_failure(calendar, error, logging.ERROR)

    @staticmethod
    def _log_failure(calendar: str, error: AtendeError, level: int) -> None:
        fields = {"calendar": calendar_ref(calendar), "outcome": error.code}
        logger.log(level, "calendar watch step failed", extra={"json_fields": fields})

    def _due(self, stored: dict[str, Any] | None, prefix: str, secret: str, now_ms: int) -> bool:
        if not stored or not isinstance(stored.get("id"), str):
            return True
        if not stored["id"].startswith(prefix):
            return True  # made for another tenant: the webhook would refuse its notices
        if stored.get("token_digest") != token_digest(channel_token(secret, stored["id"])):
            return True  # made with a channel secret since rotated
        expiration = _expiration(stored.get("expiration"))
        margin_ms = self._settings.watch_renew_margin_seconds * 1000
        return expiration is None or expiration - now_ms <= margin_ms

    def _keep_watched(
        self,
        store: ChannelStateStore,
        secret: str,
        address: str,
        calendar: str,
        tenant: str,
        counts: _Counts,
    ) -> None:
        now = self._clock.now()
        key = watch_key(calendar)
        stored = store.get(key)
        if not self._due(stored, channel_prefix(tenant, calendar), secret, _millis(now)):
            counts.kept += 1
            return
        generation = int(now.timestamp())
        new_id = channel_id(tenant, calendar, generation)
        if stored and stored.get("id") == new_id:
            new_id = channel_id(tenant, calendar, generation + 1)
        token = channel_token(secret, new_id)
        ttl = self._settings.watch_ttl_seconds
        created = self._api.watch_events(
            calendar,
            {
                "id": new_id,
                "type": "web_hook",
                "address": address,
                "token": token,
                "params": {"ttl": str(ttl)},
            },
        )
        resource_id = created.get("resourceId")
        if not isinstance(resource_id, str) or not resource_id:
            raise ProviderTransientError(
                "events.watch answered no resourceId", code="google_bad_body"
            )
        expiration = _expiration(created.get("expiration")) or _millis(now) + ttl * 1000
        store.put(
            key,
            {
                "id": new_id,
                "resourceId": resource_id,
                "expiration": expiration,
                "token_digest": token_digest(token),
                "created_at": now.isoformat(),
            },
        )
        if stored and stored.get("id"):
            counts.renewed += 1
            self._stop_old(stored, calendar, counts)
        else:
            counts.created += 1
        fields = {"calendar": calendar_ref(calendar), "outcome": "watch_created"}
        logger.info("calendar push channel created", extra={"json_fields": fields})

    def _stop_old(self, stored: dict[str, Any], calendar: str, counts: _Counts) -> None:
        """After the new channel exists; a failure only leaves the old one to expire."""
        resource_id = stored.get("resourceId")
        if not isinstance(resource_id, str) or not resource_id:
            return
        try:
            if self._api.stop_channel(str(stored["id"]), resource_id):
                counts.stopped += 1
        except AtendeError as error:
            self._log_failure(calendar, error, logging.WARNING)

    def _retire(
        self, store: ChannelStateStore, key: str, stored: dict[str, Any], counts: _Counts
    ) -> None:
        """The channel of a calendar no longer configured."""
        resource_id = stored.get("resourceId")
        if (
            isinstance(resource_id, str)
            and resource_id
            and self._api.stop_channel(str(stored["id"]), resource_id)
        ):
            counts.stopped += 1
        store.put(key, {})

    def _request_sync(self, calendar: str, counts: _Counts) -> None:
        now = self._clock.now()
        tenant = self._settings.calendars[calendar]
        event = CalendarSyncRequested(
            channel=CHANNEL,
            event_id=f"scheduled:{calendar_hash(tenant, calendar)}:{int(now.timestamp())}",
            account_id=calendar,
            occurred_at=now,
            raw={"origin": JOB_NAME},
            calendar_id=calendar,
        )
        task = InboundTask(tenant_id=tenant, event=event, received_at=now)
        self._tasks().enqueue(
            TaskRequest(
                queue="inbound",
                task_id=keys.inbound_task_id(CHANNEL, event.event_id),
                target=PROCESS_INBOUND,
                body=task.model_dump_json().encode(),
                correlation_id=current().get("correlation_id") or new_correlation_id(),
            )
        )
        counts.syncs_requested += 1
