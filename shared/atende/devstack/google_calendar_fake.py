"""A local stand-in for the Google Calendar API v3 endpoints Atende uses, for dev and tests.

    python -m atende.devstack.google_calendar_fake --port 8091

Then `ATENDE_GOOGLE_CALENDAR_API_BASE_URL=http://127.0.0.1:8091/calendar/v3`. In memory,
on 127.0.0.1 only, no credentials asked for; a calendar exists as soon as it is named.

    GET    /calendar/v3/calendars/{calendarId}/events            events.list
    POST   /calendar/v3/calendars/{calendarId}/events            events.insert
    PATCH  /calendar/v3/calendars/{calendarId}/events/{eventId}  events.patch
    DELETE /calendar/v3/calendars/{calendarId}/events/{eventId}  events.delete
    POST   /calendar/v3/calendars/{calendarId}/events/watch      events.watch
    POST   /calendar/v3/channels/stop                            channels.stop

As Google documents them: events.list pages with `nextPageToken` and ends with a
`nextSyncToken`; a `syncToken` lists only what changed since (deleted events included, a
deleted one with only its id and status), and a token the fake no longer knows (see
`/_fake/calendars/{id}/expire-sync-tokens`) answers 410 `fullSyncRequired`; without a sync
token it lists live events ending after `timeMin`. Errors use Google's error body. The fake
sends no notices by itself: `notification_headers` and `push` (or `/_fake/channels/{id}/
notify`, which uses the channel's own token and address) deliver one.

Test and dev controls under `/_fake/`: `health`, `requests` (GET; DELETE resets
everything), `script` (answers for the next API calls), `channels`, `calendars/{id}/events`.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import email.utils
import hashlib
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

JsonDict = dict[str, Any]

API_PREFIX = "/calendar/v3"
DEFAULT_TIME_ZONE = "America/Sao_Paulo"
DEFAULT_TTL_SECONDS = 604_800
MAX_PAGE_SIZE = 2500
#: Fields events.insert and events.patch take from the request body.
_WRITABLE = (
    "summary",
    "description",
    "location",
    "start",
    "end",
    "status",
    "extendedProperties",
    "attendees",
    "colorId",
    "reminders",
    "transparency",
    "visibility",
)


def google_error(status: int, reason: str, message: str, domain: str = "global") -> JsonDict:
    """Google's JSON error body."""
    return {
        "error": {
            "errors": [{"domain": domain, "reason": reason, "message": message}],
            "code": status,
            "message": message,
        }
    }


def _error(status: int, reason: str, message: str, domain: str = "global") -> JSONResponse:
    return JSONResponse(google_error(status, reason, message, domain), status_code=status)


def rfc3339(moment: datetime) -> str:
    """Google's timestamps: UTC with milliseconds, "2026-11-25T15:00:00.000Z"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _moment(value: object) -> datetime | None:
    """A `start`/`end` object (or an RFC 3339 string) as an aware datetime."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("dateTime"), str):
        return _moment(value["dateTime"])
    if isinstance(value.get("date"), str):
        try:
            return datetime.combine(date.fromisoformat(value["date"]), datetime.min.time(), UTC)
        except ValueError:
            return None
    return None


@dataclass
class _Calendar:
    events: dict[str, JsonDict] = field(default_factory=dict)
    #: Event id -> the change counter of its last change.
    changed_at: dict[str, int] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)


@dataclass
class _Pages:
    calendar_id: str
    items: list[JsonDict]
    #: The change counter when the listing started: what its sync token covers.
    sync_seq: int


@dataclass
class FakeState:
    clock: Callable[[], datetime]
    time_zone: str
    calendars: dict[str, _Calendar] = field(default_factory=dict)
    seq: int = 0
    sync_tokens: dict[str, tuple[str, int]] = field(default_factory=dict)
    pages: dict[str, _Pages] = field(default_factory=dict)
    channels: dict[str, JsonDict] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)
    requests: list[JsonDict] = field(default_factory=list)
    script: deque[JsonDict] = field(default_factory=deque)

    def calendar(self, calendar_id: str) -> _Calendar:
        return self.calendars.setdefault(calendar_id, _Calendar())

    def touch(self, calendar_id: str, event: JsonDict) -> None:
        """Record a change of `event`: new version, etag and `updated`."""
        self.seq += 1
        event["etag"] = f'"{self.seq}{int(time.time() * 1000)}"'
        event["updated"] = rfc3339(self.clock())
        self.calendar(calendar_id).changed_at[event["id"]] = self.seq

    def reset(self) -> None:
        self.calendars.clear()
        self.sync_tokens.clear()
        self.pages.clear()
        self.channels.clear()
        self.stopped.clear()
        self.requests.clear()
        self.script.clear()


def _resource_id(calendar_id: str) -> str:
    """The watched events collection's opaque id: stable per calendar, like Google's."""
    return "fake-res-" + hashlib.sha256(calendar_id.encode("utf-8")).hexdigest()[:20]


def _listed(state: FakeState, calendar_id: str, event_id: str) -> JsonDict:
    """An event as events.list shows it; a deleted one only with its id and status."""
    event = state.calendar(calendar_id).events[event_id]
    if event_id in state.calendar(calendar_id).deleted:
        return {
            "kind": "calendar#event",
            "etag": event["etag"],
            "id": event_id,
            "status": "cancelled",
        }
    return copy.deepcopy(event)


def _list_items(state: FakeState, calendar_id: str, request: Request) -> list[JsonDict] | Response:
    params = request.query_params
    calendar = state.calendar(calendar_id)
    order = sorted(calendar.changed_at, key=calendar.changed_at.__getitem__)
    sync_token = params.get("syncToken")
    if sync_token is not None:
        for unsupported in ("timeMin", "timeMax", "updatedMin", "q", "orderBy", "iCalUID"):
            if unsupported in params:
                return _error(400, "invalid", f"{unsupported} cannot be used with syncToken")
        known = state.sync_tokens.get(sync_token)
        if known is None or known[0] != calendar_id:
            return _error(
                410,
                "fullSyncRequired",
                "Sync token is no longer valid, a full sync is required.",
                domain="calendar",
            )
        return [_listed(state, calendar_id, e) for e in order if calendar.changed_at[e] > known[1]]
    show_deleted = params.get("showDeleted") == "true"
    time_min = _moment(params["timeMin"]) if "timeMin" in params else None
    if "timeMin" in params and time_min is None:
        return _error(400, "invalid", "Bad timeMin")
    items = []
    for event_id in order:
        event = calendar.events[event_id]
        if event.get("status") == "cancelled" and not show_deleted:
            continue
        end = _moment(event.get("end"))
        if time_min is not None and end is not None and end <= time_min:
            continue
        items.append(_listed(state, calendar_id, event_id))
    return items


def _body(raw: bytes) -> JsonDict | None:
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _merge_patch(event: JsonDict, changes: JsonDict) -> None:
    """Patch semantics: given fields replace, nulls remove, extended properties merge."""
    for key in _WRITABLE:
        if key not in changes:
            continue
        value = changes[key]
        if key == "extendedProperties" and isinstance(value, dict):
            properties = event.setdefault("extendedProperties", {})
            for scope in ("private", "shared"):
                for name, item in (value.get(scope) or {}).items():
                    bucket = properties.setdefault(scope, {})
                    if item is None:
                        bucket.pop(name, None)
                    else:
                        bucket[name] = item
        elif value is None:
            event.pop(key, None)
        else:
            event[key] = value


def _bad_times(event: JsonDict) -> Response | None:
    start, end = _moment(event.get("start")), _moment(event.get("end"))
    if start is None or end is None:
        return _error(400, "required", "Missing start or end time.")
    if end <= start:
        return _error(
            400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar"
        )
    return None


def create_app(
    time_zone: str = DEFAULT_TIME_ZONE, clock: Callable[[], datetime] | None = None
) -> Starlette:
    state = FakeState(clock=clock or (lambda: datetime.now(UTC)), time_zone=time_zone)

    async def recorded(request: Request) -> tuple[JsonDict, JsonDict | None, Response | None]:
        """Record an API call; a scripted answer, if one is queued, replaces the real one."""
        raw = await request.body()
        record: JsonDict = {
            "index": len(state.requests),
            "time": time.time(),
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "json": _body(raw),
        }
        state.requests.append(record)
        if not state.script:
            return record, record["json"], None
        step = state.script.popleft()
        record["scripted"] = True
        delay = float(step.get("delay_seconds", 0))
        if delay > 0:
            await asyncio.sleep(delay)
        status = int(step.get("status", 200))
        return record, None, JSONResponse(step.get("body", {}), status_code=status)

    async def list_events(request: Request) -> Response:
        _record, _body_json, scripted = await recorded(request)
        if scripted is not None:
            return scripted
        calendar_id = request.path_params["calendar_id"]
        params = request.query_params
        try:
            page_size = min(max(int(params.get("maxResults", "250")), 1), MAX_PAGE_SIZE)
        except ValueError:
            return _error(400, "invalid", "Invalid value for maxResults")
        page_token = params.get("pageToken")
        if page_token is not None:
            pages = state.pages.pop(page_token, None)
            if pages is None or pages.calendar_id != calendar_id:
                return _error(400, "invalid", "Invalid page token value.")
        else:
            items = _list_items(state, calendar_id, request)
            if isinstance(items, Response):
                return items
            pages = _Pages(calendar_id, items, state.seq)
        chunk, rest = pages.items[:page_size], pages.items[page_size:]
        answer: JsonDict = {
            "kind": "calendar#events",
            "etag": f'"p{pages.sync_seq}"',
            "summary": calendar_id,
            "updated": rfc3339(state.clock()),
            "timeZone": state.time_zone,
            "accessRole": "owner",
            "defaultReminders": [],
            "items": chunk,
        }
        if rest:
            following = "fake-page-" + secrets.token_urlsafe(12)
            state.pages[following] = _Pages(calendar_id, rest, pages.sync_seq)
            answer["nextPageToken"] = following
        else:
            token = "fake-sync-" + secrets.token_urlsafe(12)
            state.sync_tokens[token] = (calendar_id, pages.sync_seq)
            answer["nextSyncToken"] = token
        return JSONResponse(answer)

    async def insert_event(request: Request) -> Response:
        _record, body, scripted = await recorded(request)
        if scripted is not None:
            return scripted
        if body is None:
            return _error(400, "parseError", "Parse Error")
        calendar_id = request.path_params["calendar_id"]
        calendar = state.calendar(calendar_id)
        event_id = body.get("id") or secrets.token_hex(13)
        if event_id in calendar.events:
            return _error(409, "duplicate", "The requested identifier already exists.")
        now = rfc3339(state.clock())
        event: JsonDict = {
            "kind": "calendar#event",
            "id": event_id,
            "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": now,
            "creator": {"email": calendar_id, "self": True},
            "organizer": {"email": calendar_id, "self": True},
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            "reminders": {"useDefault": True},
            "eventType": "default",
        }
        _merge_patch(event, body)
        if (problem := _bad_times(event)) is not None:
            return problem
        calendar.events[event_id] = event
        state.touch(calendar_id, event)
        event["updated"] = event["created"] = now
        return JSONResponse(event)

    async def patch_event(request: Request) -> Response:
        _record, body, scripted = await recorded(request)
        if scripted is not None:
            return scripted
        if body is None:
            return _error(400, "parseError", "Parse Error")
        calendar_id, event_id = request.path_params["calendar_id"], request.path_params["event_id"]
        calendar = state.calendar(calendar_id)
        if event_id not in calendar.events:
            return _error(404, "notFound", "Not Found")
        if event_id in calendar.deleted:
            return _error(410, "deleted", "Resource has been deleted")
        changed = copy.deepcopy(calendar.events[event_id])
        _merge_patch(changed, body)
        if (problem := _bad_times(changed)) is not None:
            return problem
        if "start" in body or "end" in body:
            changed["sequence"] = int(changed.get("sequence", 0)) + 1
        calendar.events[event_id] = changed
        state.touch(calendar_id, changed)
        return JSONResponse(changed)

    async def delete_event(request: Request) -> Response:
        _record, _body_json, scripted = await recorded(request)
        if scripted is not None:
            return scripted
        calendar_id, event_id = request.path_params["calendar_id"], request.path_params["event_id"]
        calendar = state.calendar(calendar_id)
        if event_id not in calendar.events:
            return _error(404, "notFound", "Not Found")
        if event_id in calendar.deleted:
            return _error(410, "deleted", "Resource has been deleted")
        calendar.deleted.add(event_id)
        calendar.events[event_id]["status"] = "cancelled"
        state.touch(calendar_id, calendar.events[event_id])
        return Response(status_code=204)

    async def watch(request: Request) -> Response:
        _record, body, scripted = await recorded(request)
        if scripted is not None:
            return scripted
        if body is None:
            return _error(400, "parseError", "Parse Error")
        calendar_id = request.path_params["calendar_id"]
        channel_id, address, token = body.get("id"), body.get("address"), body.get("token")
        if not isinstance(channel_id, str) or not channel_id or len(channel_id) > 64:
            return _error(400, "required", "Invalid or missing channel id.")
        if body.get("type") not in ("web_hook", "webhook"):
            return _error(400, "invalid", "Invalid channel type.")
        if not isinstance(address, str) or not address:
            return _error(400, "required", "Missing channel address.")
        if token is not None and (not isinstance(token, str) or len(token) > 256):
            return _error(400, "invalid", "Invalid channel token.")
        if channel_id in state.channels or channel_id in state.stopped:
            return _error(400, "channelIdNotUnique", f"Channel id {channel_id} not unique")
        given = body.get("params")
        params: JsonDict = given if isinstance(given, dict) else {}
        try:
            ttl = int(params.get("ttl", DEFAULT_TTL_SECONDS))
        except (TypeError, ValueError):
            return _error(400, "invalid", "Invalid ttl.")
        expiration = int((state.clock() + timedelta(seconds=ttl)).timestamp() * 1000)
        if isinstance(body.get("expiration"), int | str) and str(body["expiration"]).isdigit():
            expiration = min(expiration, int(body["expiration"]))
        base = f"{request.url.scheme}://{request.url.netloc}{API_PREFIX}"
        channel: JsonDict = {
            "kind": "api#channel",
            "id": channel_id,
            "resourceId": _resource_id(calendar_id),
            "resourceUri": f"{base}/calendars/{quote(calendar_id, safe='@')}/events?alt=json",
            # Google sends int64 fields as JSON strings.
            "expiration": str(expiration),
        }
        if token is not None:
            channel["token"] = token
        state.channels[channel_id] = {
            **channel,
            "calendarId": calendar_id,
            "address": address,
            "messages": 1,
        }
        return JSONResponse(channel)

    async def stop(request: Request) -> Response:
        _record, body, scripted = await recorded(request)
        if scripted is not None:
            return scripted
        if body is None:
            return _error(400, "parseError", "Parse Error")
        channel = state.channels.get(str(body.get("id")))
        if channel is None or channel["resourceId"] != body.get("resourceId"):
            return _error(404, "notFound", f"Channel '{body.get('id')}' not found for project")
        del state.channels[channel["id"]]
        state.stopped.append(channel["id"])
        return Response(status_code=204)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def list_requests(request: Request) -> JSONResponse:
        return JSONResponse({"requests": state.requests})

    async def reset(request: Request) -> JSONResponse:
        state.reset()
        return JSONResponse({"reset": True})

    async def script(request: Request) -> JSONResponse:
        payload = _body(await request.body())
        steps = payload.get("responses") if payload else None
        if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            return JSONResponse({"error": "expected {'responses': [{...}, ...]}"}, 400)
        state.script.extend(steps)
        return JSONResponse({"queued": len(state.script)})

    async def channels(request: Request) -> JSONResponse:
        return JSONResponse({"channels": list(state.channels.values()), "stopped": state.stopped})

    async def calendar_events(request: Request) -> JSONResponse:
        calendar = state.calendar(request.path_params["calendar_id"])
        return JSONResponse(
            {"events": list(calendar.events.values()), "deleted": sorted(calendar.deleted)}
        )

    async def expire_sync_tokens(request: Request) -> JSONResponse:
        calendar_id = request.path_params["calendar_id"]
        forgotten = [t for t, (c, _seq) in state.sync_tokens.items() if c == calendar_id]
        for token in forgotten:
            del state.sync_tokens[token]
        return JSONResponse({"expired": len(forgotten)})

    async def notify(request: Request) -> JSONResponse:
        channel = state.channels.get(request.path_params["channel_id"])
        if channel is None:
            return JSONResponse({"error": "no such channel"}, 404)
        payload = _body(await request.body()) or {}
        channel["messages"] += 1
        headers = notification_headers(
            channel_id=channel["id"],
            resource_id=channel["resourceId"],
            resource_uri=channel["resourceUri"],
            state=str(payload.get("state", "exists")),
            message_number=channel["messages"],
            token=channel.get("token"),
            expiration=datetime.fromtimestamp(int(channel["expiration"]) / 1000, UTC),
        )
        status = await asyncio.to_thread(push, channel["address"], headers)
        return JSONResponse({"status": status})

    calendar = API_PREFIX + "/calendars/{calendar_id}"
    return Starlette(
        routes=[
            Route(f"{calendar}/events/watch", watch, methods=["POST"]),
            Route(f"{calendar}/events", list_events, methods=["GET"]),
            Route(f"{calendar}/events", insert_event, methods=["POST"]),
            Route(f"{calendar}/events/{{event_id}}", patch_event, methods=["PATCH"]),
            Route(f"{calendar}/events/{{event_id}}", delete_event, methods=["DELETE"]),
            Route(f"{API_PREFIX}/channels/stop", stop, methods=["POST"]),
            Route("/_fake/health", health, methods=["GET"]),
            Route("/_fake/requests", list_requests, methods=["GET"]),
            Route("/_fake/requests", reset, methods=["DELETE"]),
            Route("/_fake/script", script, methods=["POST"]),
            Route("/_fake/channels", channels, methods=["GET"]),
            Route("/_fake/channels/{channel_id}/notify", notify, methods=["POST"]),
            Route("/_fake/calendars/{calendar_id}/events", calendar_events, methods=["GET"]),
            Route(
                "/_fake/calendars/{calendar_id}/expire-sync-tokens",
                expire_sync_tokens,
                methods=["POST"],
            ),
        ]
    )


def notification_headers(
    *,
    channel_id: str,
    resource_id: str,
    resource_uri: str,
    state: str,
    message_number: int,
    token: str | None = None,
    expiration: datetime | None = None,
) -> dict[str, str]:
    """The headers of a push notice, as Google's "Push notifications" guide shows them
    (the notice has no body)."""
    headers = {
        "Content-Type": "application/json; utf-8",
        "X-Goog-Channel-ID": channel_id,
        "X-Goog-Resource-ID": resource_id,
        "X-Goog-Resource-URI": resource_uri,
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": str(message_number),
        "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
    }
    if token is not None:
        headers["X-Goog-Channel-Token"] = token
    if expiration is not None:
        headers["X-Goog-Channel-Expiration"] = email.utils.format_datetime(
            expiration.astimezone(UTC), usegmt=True
        )
    return headers


def push(webhook_url: str, headers: dict[str, str], timeout: float = 30.0) -> int:
    """POST a notice (empty body) to a webhook; its HTTP status."""
    with requests.Session() as session:
        session.trust_env = False  # loopback: never through a proxy
        response = session.post(webhook_url, data=b"", headers=headers, timeout=timeout)
        return response.status_code


class FakeCalendarClient:
    """Drives a running fake: `FakeCalendarClient("http://127.0.0.1:8091")`."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_base_url = self.base_url + API_PREFIX
        self.timeout = timeout

    def _call(self, method: str, path: str, body: JsonDict | None = None) -> JsonDict:
        with requests.Session() as session:
            session.trust_env = False
            response = session.request(
                method, f"{self.base_url}{path}", json=body, timeout=self.timeout
            )
            response.raise_for_status()
            answer: JsonDict = response.json()
            return answer

    def health(self) -> bool:
        return self._call("GET", "/_fake/health").get("status") == "ok"

    def requests(self) -> list[JsonDict]:
        """Every API call since the last reset, oldest first."""
        recorded: list[JsonDict] = self._call("GET", "/_fake/requests")["requests"]
        return recorded

    def reset(self) -> None:
        """Forget calendars, tokens, channels, recorded calls and scripted answers."""
        self._call("DELETE", "/_fake/requests")

    def script(self, responses: list[JsonDict]) -> None:
        """Queue answers ({"status", "body", "delay_seconds"}), one per coming API call."""
        self._call("POST", "/_fake/script", {"responses": responses})

    def channels(self) -> list[JsonDict]:
        """Live channels (with the address and token they were opened with)."""
        live: list[JsonDict] = self._call("GET", "/_fake/channels")["channels"]
        return live

    def stopped(self) -> list[str]:
        stopped: list[str] = self._call("GET", "/_fake/channels")["stopped"]
        return stopped

    def events(self, calendar_id: str) -> list[JsonDict]:
        path = f"/_fake/calendars/{quote(calendar_id, safe='')}/events"
        events: list[JsonDict] = self._call("GET", path)["events"]
        return events

    def expire_sync_tokens(self, calendar_id: str) -> int:
        """Make every sync token of the calendar answer 410 from now on."""
        path = f"/_fake/calendars/{quote(calendar_id, safe='')}/expire-sync-tokens"
        return int(self._call("POST", path)["expired"])

    def notify(self, channel_id: str, state: str = "exists") -> int:
        """Have the fake push a notice on a live channel; the webhook's HTTP status."""
        path = f"/_fake/channels/{quote(channel_id, safe='')}/notify"
        return int(self._call("POST", path, {"state": state})["status"])


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Google Calendar API fake")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--time-zone", default=DEFAULT_TIME_ZONE)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.time_zone), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
