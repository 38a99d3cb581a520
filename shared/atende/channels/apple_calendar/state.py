"""What the channel remembers per calendar between polls, in the ChannelStateStore under
`apple_calendar:sync:<calendar URL>`: the sync token and, per member href, what a later
change or deletion needs to say (uid, etag, summary, start, end, location, contact).

A deletion (404) carries nothing but the href, so without this map a cancellation could not
say which appointment, or whom, it concerns. Only members still worth a notice are kept
(upcoming appointments and unfinished series, plus the bare etag of non-event members), so
the document stays far below Firestore's 1 MiB limit however old the calendar is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

STATE_PREFIX = "apple_calendar:sync:"
_VERSION = 1


def state_key(calendar_url: str) -> str:
    return STATE_PREFIX + calendar_url


@dataclass(frozen=True)
class Known:
    """One member as we last saw it; `uid` is None for a member that is not an event."""

    etag: str
    uid: str | None = None
    summary: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: str | None = None
    contact_ref: str | None = None
    cancelled: bool = False
    repeats: bool = False
    repeats_until: datetime | None = None

    def upcoming(self, now: datetime) -> bool:
        if self.repeats:
            return self.repeats_until is None or self.repeats_until > now
        return self.starts_at is not None and self.starts_at > now

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"etag": self.etag}
        for name in ("uid", "summary", "location", "contact_ref"):
            value = getattr(self, name)
            if value is not None:
                document[name] = value
        for name in ("starts_at", "ends_at", "repeats_until"):
            moment = getattr(self, name)
            if moment is not None:
                document[name] = moment.isoformat()
        if self.cancelled:
            document["cancelled"] = True
        if self.repeats:
            document["repeats"] = True
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Known | None:
        """None for a document this code cannot read (it is then treated as unknown)."""
        etag = document.get("etag")
        if not isinstance(etag, str):
            return None
        return cls(
            etag=etag,
            uid=_str(document.get("uid")),
            summary=_str(document.get("summary")),
            starts_at=_moment(document.get("starts_at")),
            ends_at=_moment(document.get("ends_at")),
            location=_str(document.get("location")),
            contact_ref=_str(document.get("contact_ref")),
            cancelled=document.get("cancelled") is True,
            repeats=document.get("repeats") is True,
            repeats_until=_moment(document.get("repeats_until")),
        )


@dataclass(frozen=True)
class SyncState:
    token: str | None
    members: Mapping[str, Known]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": _VERSION,
            "token": self.token,
            "members": {href: known.to_json() for href, known in self.members.items()},
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any] | None) -> SyncState:
        if not document:
            return cls(token=None, members={})
        token = document.get("token")
        raw_members = document.get("members")
        members: dict[str, Known] = {}
        if isinstance(raw_members, dict):
            for href, value in raw_members.items():
                known = Known.from_json(value) if isinstance(value, dict) else None
                if isinstance(href, str) and known is not None:
                    members[href] = known
        return cls(token=token if isinstance(token, str) and token else None, members=members)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
