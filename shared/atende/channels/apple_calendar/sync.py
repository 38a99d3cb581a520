"""The CalendarSync of Apple Calendar: what changed in a CalDAV calendar since the stored
sync token, as calendar events, and the cursor to store once they are enqueued.

One `changes` call reads every page: a 507 on the collection (RFC 6578 §3.6) means the
server cut the answer short, and its token resumes after the part it returned. A token the
server refuses (DAV:valid-sync-token) means a full resync without a token; the remembered
map then tells what changed or disappeared meanwhile (see `changes.py` for what is
announced). Nothing is stored here: `advance` stores the token and the map, and
`sync_calendar` calls it only after every event is enqueued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atende.channels.apple_calendar.changes import Listing, diff, missing_data
from atende.channels.apple_calendar.client import (
    MULTIGET_BATCH,
    CalDavClient,
    Credentials,
    check_calendar_url,
)
from atende.channels.apple_calendar.dav_xml import Member
from atende.channels.apple_calendar.errors import InvalidSyncTokenError
from atende.channels.apple_calendar.state import Known, SyncState, state_key
from atende.domain import expiry
from atende.domain.keys import stable_hash
from atende.errors import ConfigurationError
from atende.ports import CalendarChanges, ChannelStateStore, Clock

logger = logging.getLogger(__name__)

#: Pages of one sync (each a 507-truncated answer) before we stop and keep the token we
#: reached: the next poll goes on from there, so a server that truncates forever cannot
#: hold one poll forever.
MAX_PAGES = 50
#: The stored sync state (which names contacts) expires this long after the last poll.
STATE_RETENTION = timedelta(days=90)


def calendar_ref(calendar_url: str) -> str:
    """How logs name a calendar: iCloud URLs carry the account's numeric id."""
    return stable_hash("apple_calendar", calendar_url)[:40]


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            "ATENDE_APPLE_CALENDAR_FLOATING_TIMEZONE is not a known time zone",
            code="caldav_bad_timezone",
        ) from None


class AppleCalendarSync:
    def __init__(
        self,
        client: Callable[[], CalDavClient],
        state: Callable[[], ChannelStateStore],
        clock: Clock,
        floating_zone: tzinfo,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._client = client
        self._state = state
        self._clock = clock
        self._floating_zone = floating_zone
        self._max_pages = max_pages

    def changes(self, tenant_id: str, calendar_id: str) -> CalendarChanges:
        check_calendar_url(calendar_id)
        client = self._client()  # fails closed here when the password is missing
        now = self._clock.now()
        stored = SyncState.from_json(expiry.live(self._state().get(state_key(calendar_id)), now))
        ref = calendar_ref(calendar_id)
        try:
            token, listing = self._listing(client, calendar_id, stored.token)
        except InvalidSyncTokenError:
            logger.warning(
                "the calendar refused our sync token; full resync (no notices for the past)",
                extra={"json_fields": {"calendar_ref": ref, "outcome": "full_resync"}},
            )
            token, listing = self._listing(client, calendar_id, None)
        listing = self._with_data(client, calendar_id, listing, stored.members)
        outcome = diff(calendar_id, stored.members, listing, self._clock.now(), self._floating_zone)
        if outcome.counts:
            logger.info(
                "calendar changes read",
                extra={"json_fields": {"calendar_ref": ref, **outcome.counts}},
            )
        cursor = SyncState(token=token, members=outcome.members).to_json()
        return CalendarChanges(events=tuple(outcome.events), cursor=cursor)

    def advance(self, calendar_id: str, cursor: dict[str, Any]) -> None:
        """Store the cursor; it remembers contacts, so it expires `STATE_RETENTION` after
        this poll: never while the calendar is polled, 90 days after it left the
        configuration (long enough that an outage never forces a resync, which would
        announce every upcoming appointment again)."""
        expire_at = self._clock.now() + STATE_RETENTION
        self._state().put(state_key(calendar_id), expiry.stamped(cursor, expire_at))

    def _listing(
        self, client: CalDavClient, url: str, token: str | None
    ) -> tuple[str | None, Listing]:
        """Every page from `token` on: the last token, and each member's latest report."""
        full = token is None
        present: dict[str, Member] = {}
        removed: dict[str, str] = {}
        for _ in range(self._max_pages):
            page = client.sync_page(url, token)
            for member in page.members:
                removed.pop(member.key, None)
                present[member.key] = member
            for key, href in zip(page.removed, page.removed_hrefs, strict=True):
                present.pop(key, None)
                removed[key] = href
            token = page.token
            if not page.truncated:
                listing = Listing(tuple(present.values()), tuple(removed.items()), complete=full)
                return token, listing
        logger.warning(
            "the calendar truncated every page; continuing from here on the next poll",
            extra={"json_fields": {"calendar_ref": calendar_ref(url), "outcome": "truncated"}},
        )
        return token, Listing(tuple(present.values()), tuple(removed.items()), complete=False)

    def _with_data(
        self, client: CalDavClient, url: str, listing: Listing, known: Mapping[str, Known]
    ) -> Listing:
        """Fetch, by calendar-multiget, the data of changed members listed without it."""
        wanted = missing_data(listing.members, known)
        if not wanted:
            return listing
        fetched: dict[str, Member] = {}
        for start in range(0, len(wanted), MULTIGET_BATCH):
            batch = wanted[start : start + MULTIGET_BATCH]
            answer = client.multiget(url, [member.href for member in batch])
            fetched.update((member.key, member) for member in answer.members)
        wanted_keys = {member.key for member in wanted}
        members = tuple(
            _merged(member, fetched.get(member.key)) if member.key in wanted_keys else member
            for member in listing.members
        )
        return Listing(members, listing.removed, listing.complete)


def _merged(listed: Member, fetched: Member | None) -> Member:
    if fetched is None or fetched.calendar_data is None:
        return listed
    # The multiget's etag belongs to the data it returned (RFC 6578 §3.1 warns that the two
    # answers may differ when the member changed in between).
    return Member(
        href=listed.href,
        key=listed.key,
        etag=fetched.etag or listed.etag,
        calendar_data=fetched.calendar_data,
    )


def credentials_from(username: str | None, password: str | None) -> Credentials:
    """Fail closed: no request is made without both."""
    if not password:
        raise ConfigurationError(
            "APPLE_CALENDAR_APP_PASSWORD is not configured (an app-specific password)",
            code="caldav_password_missing",
        )
    if not username:
        raise ConfigurationError(
            "ATENDE_APPLE_CALENDAR_USERNAME is not configured", code="caldav_username_missing"
        )
    return Credentials(username=username, password=password)
