"""Channel state (sync tokens, watch channels, leases) against the Firestore emulator."""

from datetime import UTC, datetime

from atende.adapters.firestore.channel_state import FirestoreChannelState


class Clock:
    def now(self):
        return datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def test_state_is_kept_per_key_overwritten_and_listed_by_prefix(db):
    state = FirestoreChannelState(db, Clock())
    url = "https://caldav.icloud.com/123/calendars/home/"
    assert state.get(f"apple_calendar:sync:{url}") is None
    state.put(f"apple_calendar:sync:{url}", {"token": "t1", "hrefs": {"/a.ics": "e1"}})
    state.put(f"apple_calendar:sync:{url}", {"token": "t2", "hrefs": {}})
    state.put("google_calendar:watch:agenda@loja.example", {"id": "w1"})
    state.put("google_calendar:watch:outra@loja.example", {"id": "w2"})

    assert state.get(f"apple_calendar:sync:{url}") == {"token": "t2", "hrefs": {}}
    watches = state.with_prefix("google_calendar:watch:")
    assert watches == {
        "google_calendar:watch:agenda@loja.example": {"id": "w1"},
        "google_calendar:watch:outra@loja.example": {"id": "w2"},
    }
    assert state.with_prefix("youtube:") == {}


def test_a_value_with_expire_at_gets_a_ttl_field_and_reads_as_absent_once_past_it(db):
    from datetime import timedelta

    from atende.adapters.firestore import codec
    from atende.adapters.firestore.channel_state import _document_id
    from atende.domain import expiry

    clock = Clock()
    state = FirestoreChannelState(db, clock)
    until = clock.now() + timedelta(days=7)
    key = "google_calendar:event:agenda@loja.example:evt1"
    state.put(key, expiry.stamped({"contact_ref": "whatsapp:5511999990000"}, until))
    state.put("google_calendar:event:agenda@loja.example:evt2", {"summary": "sem prazo"})

    document = db.collection(codec.CHANNEL_STATE).document(_document_id(key)).get().to_dict()
    assert document["expire_at"] == until  # a timestamp: what the TTL policy deletes by
    assert state.get(key)["contact_ref"] == "whatsapp:5511999990000"

    class Later:
        def now(self):
            return until

    later = FirestoreChannelState(db, Later())
    assert later.get(key) is None  # TTL may not have deleted it yet
    assert set(later.with_prefix("google_calendar:event:")) == {
        "google_calendar:event:agenda@loja.example:evt2"
    }


def test_the_google_calendar_memory_expires_a_week_after_the_appointment(db):
    from datetime import timedelta

    from atende.channels.google_calendar._items import Appointment
    from atende.channels.google_calendar.memory import AppointmentMemory

    now = Clock().now()
    start = now + timedelta(days=3)
    appointment = Appointment(
        event_id="evt1",
        version="2026-11-25T15:00:00.000Z",
        cancelled=False,
        created=now,
        updated=now,
        summary="Corte de cabelo",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        location=None,
        contact_ref="whatsapp:5511999990000",
        raw={},
    )
    state = FirestoreChannelState(db, Clock())
    AppointmentMemory(state, "agenda@loja.example", now).remember(appointment, "created", None)
    remembered = AppointmentMemory(state, "agenda@loja.example", now).recall("evt1")
    assert remembered is not None and remembered["contact_ref"] == "whatsapp:5511999990000"
    assert remembered["expire_at"] == (start + timedelta(hours=1, days=7)).isoformat()

    expired_at = start + timedelta(hours=1, days=7)
    assert AppointmentMemory(state, "agenda@loja.example", expired_at).recall("evt1") is None


def test_the_caldav_sync_state_expires_90_days_after_the_last_poll(db):
    from datetime import timedelta

    from atende.channels.apple_calendar.state import state_key
    from atende.channels.apple_calendar.sync import STATE_RETENTION, AppleCalendarSync

    clock = Clock()
    state = FirestoreChannelState(db, clock)
    url = "https://caldav.icloud.com/123/calendars/home/"
    sync = AppleCalendarSync(
        client=lambda: None, state=lambda: state, clock=clock, floating_zone=UTC
    )
    sync.advance(url, {"version": 1, "token": "t1", "members": {}})
    stored = state.get(state_key(url))
    assert stored is not None and stored["token"] == "t1"
    assert timedelta(days=90) == STATE_RETENTION

    class Later:
        def now(self):
            return clock.now() + STATE_RETENTION

    assert FirestoreChannelState(db, Later()).get(state_key(url)) is None
