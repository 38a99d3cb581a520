"""From a sync listing to calendar events, against the remembered map (pure)."""

from datetime import UTC, datetime, timedelta

from atende.channels.apple_calendar.changes import (
    MAX_RAW_CALENDAR_DATA,
    Listing,
    diff,
    missing_data,
    strip_etag,
)
from atende.channels.apple_calendar.dav_xml import Member
from atende.channels.apple_calendar.sample import event_ics
from atende.channels.apple_calendar.state import Known, SyncState
from atende.domain.events import (
    CalendarEventCancelled,
    CalendarEventCreated,
    CalendarEventUpdated,
    UnsupportedEvent,
)

CALENDAR = "https://p42-caldav.icloud.com/1234567/calendars/home/"
NOW = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)
TOMORROW = NOW + timedelta(days=1)
YESTERDAY = NOW - timedelta(days=1)
CONTACT = "whatsapp:5511999990000"


def member(name: str, etag: str, data: str | None) -> Member:
    path = f"/1234567/calendars/home/{name}.ics"
    return Member(href=path, key=path, etag=etag, calendar_data=data)


def appointment(name: str, etag: str, when: datetime = TOMORROW, **kwargs) -> Member:
    data = event_ics(f"{name}@uid", kwargs.pop("summary", "Consulta"), when, **kwargs)
    return member(name, etag, data)


def key(name: str) -> str:
    return f"/1234567/calendars/home/{name}.ics"


def known(name: str, etag: str, when: datetime = TOMORROW, **kwargs) -> tuple[str, Known]:
    return key(name), Known(etag=etag, uid=f"{name}@uid", starts_at=when, **kwargs)


def run(known_map, listing):
    return diff(CALENDAR, dict(known_map), listing, NOW, UTC)


def test_a_new_member_is_created_with_everything_the_notice_needs():
    outcome = run({}, Listing((appointment("a", '"e1"', contact_ref=CONTACT, location="Sala 2"),)))
    (event,) = outcome.events
    assert isinstance(event, CalendarEventCreated)
    assert event.event_id == "a@uid:e1"
    assert event.calendar_event_id == "a@uid"
    assert (event.account_id, event.calendar_id, event.channel) == (
        CALENDAR,
        CALENDAR,
        "apple_calendar",
    )
    assert event.contact_ref == CONTACT
    assert (event.summary, event.location, event.starts_at) == ("Consulta", "Sala 2", TOMORROW)
    assert event.raw["href"] == key("a") and "BEGIN:VCALENDAR" in event.raw["calendar_data"]
    assert outcome.members[key("a")].etag == '"e1"'
    assert outcome.counts == {"created": 1}


def test_a_known_member_with_a_new_etag_is_updated():
    outcome = run(
        [known("a", '"e1"')], Listing((appointment("a", '"e2"', summary="Consulta, 15h"),))
    )
    (event,) = outcome.events
    assert isinstance(event, CalendarEventUpdated)
    assert (event.event_id, event.summary) == ("a@uid:e2", "Consulta, 15h")


def test_a_member_listed_with_the_etag_we_know_is_not_news():
    outcome = run([known("a", '"e1"')], Listing((appointment("a", '"e1"'),)))
    assert outcome.events == []
    assert outcome.members[key("a")].etag == '"e1"'


def test_status_cancelled_is_announced_once():
    first = run([known("a", '"e1"')], Listing((appointment("a", '"e2"', status="CANCELLED"),)))
    assert [type(e) for e in first.events] == [CalendarEventCancelled]
    assert first.members[key("a")].cancelled
    # Edited again while cancelled, then deleted: nobody hears about it twice.
    again = run(first.members, Listing((appointment("a", '"e3"', status="CANCELLED"),)))
    assert again.events == []
    deleted = run(again.members, Listing(removed=((key("a"), key("a")),)))
    assert deleted.events == [] and key("a") not in deleted.members


def test_a_removed_member_is_cancelled_with_what_we_remembered():
    entry = known("a", '"e1"', summary="Consulta", contact_ref=CONTACT, location="Sala 2")
    outcome = run([entry], Listing(removed=((key("a"), "/1234567/calendars/home/a.ics"),)))
    (event,) = outcome.events
    assert isinstance(event, CalendarEventCancelled)
    assert event.event_id == f"{key('a')}:deleted:e1"
    assert (event.summary, event.contact_ref, event.starts_at, event.location) == (
        "Consulta",
        CONTACT,
        TOMORROW,
        "Sala 2",
    )
    assert event.raw == {"href": "/1234567/calendars/home/a.ics", "status": 404, "etag": '"e1"'}
    assert key("a") not in outcome.members


def test_a_removed_member_we_never_knew_says_nothing():
    assert run({}, Listing(removed=((key("x"), key("x")),))).events == []


def test_changes_to_appointments_already_begun_are_remembered_but_not_announced():
    outcome = run(
        [known("old", '"e1"', YESTERDAY)],
        Listing(
            (appointment("new-past", '"p1"', YESTERDAY), appointment("old", '"e2"', YESTERDAY)),
            removed=(),
        ),
    )
    assert outcome.events == []
    assert outcome.counts == {"past": 2}
    # Past appointments are not kept: they can never produce a notice again.
    assert outcome.members == {}


def test_an_appointment_moved_from_the_future_into_the_past_is_still_an_update():
    outcome = run([known("a", '"e1"', TOMORROW)], Listing((appointment("a", '"e2"', YESTERDAY),)))
    assert [type(e) for e in outcome.events] == [CalendarEventUpdated]


def test_deleting_a_past_appointment_messages_nobody():
    outcome = run([known("a", '"e1"', YESTERDAY)], Listing(removed=((key("a"), key("a")),)))
    assert outcome.events == []


def test_a_complete_listing_cancels_known_members_it_no_longer_has_and_only_upcoming_news():
    known_map = [
        known("kept", '"k1"', contact_ref=CONTACT),
        known("gone", '"g1"', contact_ref=CONTACT),
        known("changed", '"c1"'),
    ]
    listing = Listing(
        (
            appointment("kept", '"k1"'),
            appointment("changed", '"c2"'),
            appointment("new", '"n1"'),
            appointment("history", '"h1"', YESTERDAY),
        ),
        complete=True,
    )
    outcome = run(known_map, listing)
    kinds = {type(e).__name__: e.calendar_event_id for e in outcome.events}
    assert kinds == {
        "CalendarEventCancelled": "gone@uid",
        "CalendarEventUpdated": "changed@uid",
        "CalendarEventCreated": "new@uid",
    }
    assert set(outcome.members) == {key("kept"), key("changed"), key("new")}


def test_an_incomplete_listing_keeps_members_it_did_not_mention():
    outcome = run([known("a", '"e1"')], Listing((appointment("b", '"b1"'),)))
    assert set(outcome.members) == {key("a"), key("b")}


def test_a_member_that_is_not_an_appointment_is_kept_as_unsupported_not_dropped():
    todo = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    outcome = run({}, Listing((member("t", '"t1"', todo),)))
    (event,) = outcome.events
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "no_vevent:VTODO"
    assert event.event_id == f"{key('t')}:t1"
    assert event.raw["calendar_data"] == todo
    # Its etag is remembered, so it is reported once, not on every poll.
    assert run(outcome.members, Listing((member("t", '"t1"', todo),))).events == []


def test_a_member_without_data_changes_nothing():
    outcome = run([known("a", '"e1"')], Listing((member("a", '"e2"', None),)))
    assert outcome.events == [] and outcome.members[key("a")].etag == '"e1"'
    assert outcome.counts == {"unreadable": 1}


def test_huge_calendar_data_is_cut_in_raw_and_says_so():
    big = appointment("a", '"e1"', summary="x" * (MAX_RAW_CALENDAR_DATA + 10))
    (event,) = run({}, Listing((big,))).events
    assert event.raw["calendar_data_truncated"] is True
    assert len(event.raw["calendar_data"]) == MAX_RAW_CALENDAR_DATA


def _modified_at(name: str, stamp: str) -> Member:
    data = event_ics(f"{name}@uid", "Consulta", TOMORROW).replace(
        "SEQUENCE:0", f"SEQUENCE:0\r\nLAST-MODIFIED:{stamp}"
    )
    return member(name, f'"{name}"', data)


def test_events_come_oldest_first_by_when_each_version_was_written():
    later = _modified_at("later", "20300109T180000Z")
    earlier = _modified_at("earlier", "20300109T080000Z")
    outcome = run({}, Listing((later, earlier)))
    assert [e.calendar_event_id for e in outcome.events] == ["earlier@uid", "later@uid"]
    assert outcome.events[0].occurred_at == datetime(2030, 1, 9, 8, 0, tzinfo=UTC)


def test_only_new_or_changed_members_without_data_are_fetched():
    listed = (
        member("same", '"s"', None),
        member("changed", '"c2"', None),
        member("new", '"n"', None),
    )
    with_data = appointment("has", '"h"')
    wanted = missing_data(
        (*listed, with_data), dict([known("same", '"s"'), known("changed", '"c1"')])
    )
    assert [m.key for m in wanted] == [key("changed"), key("new")]


def test_the_remembered_map_survives_a_round_trip_through_json():
    state = SyncState(
        token="http://radicale.org/ns/sync/abc",
        members=dict(
            [
                known("a", '"e1"', summary="Consulta", contact_ref=CONTACT, cancelled=True),
                (key("t"), Known(etag='"t1"')),
                known("s", '"s1"', repeats=True, repeats_until=TOMORROW),
            ]
        ),
    )
    assert SyncState.from_json(state.to_json()) == state
    assert SyncState.from_json(None) == SyncState(token=None, members={})
    broken = {"token": 3, "members": {"x": {"etag": 1}, "y": "no", "z": {"etag": '"z"'}}}
    assert SyncState.from_json(broken) == SyncState(None, {"z": Known(etag='"z"')})


def test_entity_tags_lose_only_their_quotes_in_ids():
    assert [strip_etag(e) for e in ['"abc"', 'W/"abc"', "abc", '"']] == ["abc", "W/abc", "abc", '"']
