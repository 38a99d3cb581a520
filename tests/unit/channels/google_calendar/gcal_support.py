"""Shared pieces of the Google Calendar unit tests: a fixed clock, in-memory channel state,
secrets, the documented fixtures and a scripted Calendar API (imported by name: the tests'
folder is on sys.path, as pytest's default import mode puts it)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.google_calendar.errors import SyncTokenGoneError

DATA = Path(__file__).resolve().parents[3] / "data" / "google_calendar"
SECRET = "channel-secret-for-tests"
CALENDAR = "agenda@loja.example"
TENANT = "loja"
CALENDARS = {CALENDAR: TENANT, "outra@loja.example": "outra"}
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text())


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class MemoryState:
    """The ChannelStateStore port in a dict; `puts` lists every write in order."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}
        self.puts: list[str] = []

    def get(self, key: str) -> dict[str, Any] | None:
        value = self.values.get(key)
        return copy.deepcopy(value) if value is not None else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.values[key] = copy.deepcopy(value)
        self.puts.append(key)

    def with_prefix(self, prefix: str) -> dict[str, dict[str, Any]]:
        return {k: copy.deepcopy(v) for k, v in self.values.items() if k.startswith(prefix)}


class ScriptedApi:
    """Stands in for CalendarApi: answers list_events from `pages` (a list per call: a dict
    page, or an exception to raise) and records every call."""

    def __init__(self, pages: list[Any] | None = None) -> None:
        self.pages = list(pages or [])
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.watch_answers: list[Any] = []
        self.stop_answers: list[Any] = []

    def list_events(self, calendar_id: str, **params: Any) -> dict[str, Any]:
        self.calls.append(("list", {"calendar_id": calendar_id, **params}))
        answer = self.pages.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer)

    def watch_events(self, calendar_id: str, channel: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("watch", {"calendar_id": calendar_id, **channel}))
        answer = self.watch_answers.pop(0) if self.watch_answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer or {
            "kind": "api#channel",
            "id": channel["id"],
            "resourceId": f"res-{calendar_id}",
            "resourceUri": "https://www.googleapis.com/calendar/v3/calendars/x/events",
            "token": channel["token"],
            "expiration": str(int(NOW.timestamp() * 1000) + 604_800_000),
        }

    def stop_channel(self, channel_id: str, resource_id: str) -> bool:
        self.calls.append(("stop", {"id": channel_id, "resourceId": resource_id}))
        answer = self.stop_answers.pop(0) if self.stop_answers else True
        if isinstance(answer, Exception):
            raise answer
        return bool(answer)


def page(items: list[Any], *, next_page: str | None = None, sync: str | None = None) -> Any:
    body = fixture("events_list_page_1.json" if next_page else "events_list_last_page.json")
    body["items"] = items
    if next_page:
        body["nextPageToken"] = next_page
    elif sync:
        body["nextSyncToken"] = sync
    return body


def gone() -> SyncTokenGoneError:
    return SyncTokenGoneError("410", code="google_410_fullSyncRequired")


def secret_source(secret: str | None = SECRET) -> EnvSecretSource:
    environ = {"GOOGLE_CALENDAR_CHANNEL_SECRET": secret} if secret else {}
    return EnvSecretSource(environ=environ, dotenv_path=None)
