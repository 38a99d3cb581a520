"""The `apple_calendar_poll` job (Cloud Scheduler → HTTP): iCloud has no push, so every
configured calendar is asked what changed since its stored sync token, and each change
becomes a processing task (`sync_calendar`: enqueue first, then move the token).

One calendar failing does not stop the others; the job still fails at the end (a permanent
failure before a transient one) so the scheduler's log and retry see it. Missing or refused
credentials stop it at once: they are the same for every calendar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from atende.channels.apple_calendar.settings import CHANNEL
from atende.channels.apple_calendar.sync import calendar_ref
from atende.channels.plugin import JobReport
from atende.errors import AtendeError, ConfigurationError, TransientError
from atende.observability.context import bind, current, new_correlation_id
from atende.ports import CalendarSync, Clock, TaskQueue
from atende.process_inbound.calendar_sync import sync_calendar

logger = logging.getLogger(__name__)


def poll_calendars(
    sync: CalendarSync,
    tasks: Callable[[], TaskQueue],
    clock: Clock,
    calendars: Mapping[str, str],
) -> JobReport:
    """Sync every calendar (URL → tenant); PII-free counts for the log and the answer."""
    correlation_id = current().get("correlation_id") or new_correlation_id()
    synced = changes = 0
    failures: list[AtendeError] = []
    for url, tenant_id in calendars.items():
        ref = calendar_ref(url)
        with bind(channel=CHANNEL, tenant_id=tenant_id):
            try:
                changed = sync_calendar(
                    sync,
                    tasks(),
                    tenant_id=tenant_id,
                    calendar_id=url,
                    received_at=clock.now(),
                    correlation_id=correlation_id,
                )
            except ConfigurationError as error:
                # The message is one of our fixed sentences (never the server's text).
                logger.error(
                    "Apple Calendar poll stopped: %s",
                    error,
                    extra={"json_fields": {"calendar_ref": ref, "outcome": error.code}},
                )
                raise
            except AtendeError as error:
                failures.append(error)
                logger.warning(
                    "calendar poll failed; the next poll retries it",
                    extra={"json_fields": {"calendar_ref": ref, "outcome": error.code}},
                )
                continue
        synced += 1
        changes += changed
    if failures:
        permanent = [error for error in failures if not isinstance(error, TransientError)]
        raise (permanent or failures)[0]
    return {"calendars": len(calendars), "synced": synced, "changes": changes}
