"""RFC 6578 behaviour Radicale cannot be made to show, against a small scripted CalDAV server
on 127.0.0.1: truncated answers (507 on the collection, §3.6) followed page by page, a 409
DAV:valid-sync-token, and redirects never followed with the password.

Radicale 3.9 never truncates a sync-collection answer (it ignores DAV:limit), so paging is
tested here; the server below answers exactly as §3.6 shows.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
import pytest

from atende.adapters.clock import SystemClock
from atende.channels.apple_calendar.client import CalDavClient, Credentials
from atende.channels.apple_calendar.sample import event_ics
from atende.channels.apple_calendar.state import Known, SyncState, state_key
from atende.channels.apple_calendar.sync import AppleCalendarSync
from atende.domain.events import CalendarEventCancelled, CalendarEventCreated
from atende.errors import ProviderPermanentError

USER, PASSWORD = "someone@icloud.com", "abcd-efgh-ijkl-mnop"
PATH = "/1234567/calendars/home/"
CONTACT = "whatsapp:5511999990000"


def member_xml(name: str, etag: str) -> str:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    data = escape(event_ics(f"{name}@uid", f"Consulta {name}", when, contact_ref=CONTACT))
    return (
        f"<D:response><D:href>{PATH}{name}.ics</D:href><D:propstat><D:prop>"
        f"<D:getetag>&quot;{etag}&quot;</D:getetag><C:calendar-data>{data}</C:calendar-data>"
        "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
    )


def removed_xml(name: str) -> str:
    return (
        f"<D:response><D:href>{PATH}{name}.ics</D:href>"
        "<D:status>HTTP/1.1 404 Not Found</D:status></D:response>"
    )


TRUNCATED = (
    f"<D:response><D:href>{PATH}</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status>"
    "<D:error><D:number-of-matches-within-limits/></D:error></D:response>"
)


def multistatus(token: str, *responses: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        + "".join(responses)
        + f"<D:sync-token>{token}</D:sync-token></D:multistatus>"
    ).encode()


@dataclass
class Script:
    #: sync token asked for ("" for none) -> (status, body, extra headers)
    answers: dict[str, tuple[int, bytes, dict[str, str]]] = field(default_factory=dict)
    #: every request: (method, path, token asked for, Depth header, Authorization header)
    seen: list[tuple[str, str, str, str | None, str | None]] = field(default_factory=list)


class Handler(BaseHTTPRequestHandler):
    script: Script

    def do_REPORT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        token = (SafeET.fromstring(body).findtext("{DAV:}sync-token") or "").strip()
        self.script.seen.append(
            (
                "REPORT",
                self.path,
                token,
                self.headers.get("Depth"),
                self.headers.get("Authorization"),
            )
        )
        status, answer, headers = self.script.answers.get(token, (500, b"unexpected", {}))
        self.send_response(status)
        for name, value in {"Content-Type": "text/xml; charset=utf-8", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()
    handler = type("ScriptedHandler", (Handler,), {"script": script})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}{PATH}", script
    finally:
        httpd.shutdown()
        httpd.server_close()


class MemoryState:
    def __init__(self, docs=None):
        self.docs = dict(docs or {})

    def get(self, key):
        return self.docs.get(key)

    def put(self, key, value):
        self.docs[key] = value

    def with_prefix(self, prefix):
        return {k: v for k, v in self.docs.items() if k.startswith(prefix)}


def make_sync(state, max_pages=50):
    client = CalDavClient(Credentials(USER, PASSWORD), 10.0)
    return AppleCalendarSync(lambda: client, lambda: state, SystemClock(), UTC, max_pages)


def remembered(url: str, token: str | None, *names: str) -> MemoryState:
    when = datetime.now(UTC) + timedelta(days=3)
    members = {
        f"{PATH}{name}.ics": Known(etag=f'"{name}0"', uid=f"{name}@uid", starts_at=when,
                                   contact_ref=CONTACT)
        for name in names
    }  # fmt: skip
    return MemoryState({state_key(url): SyncState(token, members).to_json()})


def test_a_truncated_answer_is_followed_from_its_token_until_the_last_page(server):
    url, script = server
    script.answers = {
        "tok-0": (207, multistatus("tok-1", member_xml("a", "a1"), TRUNCATED), {}),
        "tok-1": (207, multistatus("tok-2", member_xml("b", "b1"), removed_xml("c")), {}),
    }
    state = remembered(url, "tok-0", "c")
    sync = make_sync(state)

    changes = sync.changes("demo", url)

    assert [(type(e), e.calendar_event_id) for e in changes.events] == [
        (CalendarEventCreated, "a@uid"),
        (CalendarEventCreated, "b@uid"),
        (CalendarEventCancelled, "c@uid"),
    ]
    assert changes.cursor["token"] == "tok-2"
    assert [(s[2], s[3]) for s in script.seen] == [("tok-0", "0"), ("tok-1", "0")]
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert {s[4] for s in script.seen} == {expected}
    # Nothing is stored until the caller has enqueued the events.
    assert SyncState.from_json(state.get(state_key(url))).token == "tok-0"
    sync.advance(url, changes.cursor)
    assert SyncState.from_json(state.get(state_key(url))).token == "tok-2"


def test_a_full_listing_over_several_pages_cancels_only_what_no_page_listed(server):
    url, script = server
    script.answers = {
        "": (207, multistatus("tok-1", member_xml("a", "a0"), TRUNCATED), {}),
        "tok-1": (207, multistatus("tok-2", member_xml("b", "b0")), {}),
    }
    state = remembered(url, None, "a", "b", "gone")
    changes = make_sync(state).changes("demo", url)
    # "a" and "b" are listed with the etags we know (one on each page): not news.
    assert [(type(e), e.calendar_event_id) for e in changes.events] == [
        (CalendarEventCancelled, "gone@uid")
    ]
    assert set(changes.cursor["members"]) == {f"{PATH}a.ics", f"{PATH}b.ics"}


def test_a_server_that_truncates_forever_stops_after_the_page_limit_keeping_its_progress(server):
    url, script = server
    script.answers = {
        f"tok-{n}": (207, multistatus(f"tok-{n + 1}", member_xml(f"m{n}", "e"), TRUNCATED), {})
        for n in range(10)
    }
    state = remembered(url, "tok-0", "never-listed")
    changes = make_sync(state, max_pages=3).changes("demo", url)
    assert len(script.seen) == 3
    assert changes.cursor["token"] == "tok-3"
    # An incomplete listing says nothing about members it did not reach.
    assert sorted(e.calendar_event_id for e in changes.events) == ["m0@uid", "m1@uid", "m2@uid"]
    assert f"{PATH}never-listed.ics" in changes.cursor["members"]


def test_a_409_valid_sync_token_precondition_restarts_without_a_token(server):
    url, script = server
    refused = b'<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'
    script.answers = {
        "expired": (409, refused, {}),
        "": (207, multistatus("fresh", member_xml("a", "a1")), {}),
    }
    changes = make_sync(remembered(url, "expired")).changes("demo", url)
    assert [s[2] for s in script.seen] == ["expired", ""]
    assert changes.cursor["token"] == "fresh"
    assert [e.calendar_event_id for e in changes.events] == ["a@uid"]


def test_a_redirect_is_not_followed_so_the_password_never_leaves_for_another_host(server):
    url, script = server
    script.answers = {"": (301, b"", {"Location": "https://elsewhere.example/cal/"})}
    with pytest.raises(ProviderPermanentError) as raised:
        make_sync(MemoryState()).changes("demo", url)
    assert raised.value.code == "caldav_redirect"
    assert len(script.seen) == 1
