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
