"""parse_notification over YouTube-shaped Atom: one event per item, raw kept, nothing lost,
and no XML trick gets through."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from atende.channels.youtube import sample
from atende.channels.youtube.parse import parse_notification
from atende.domain.events import InboundEvent, UnsupportedEvent, VideoPublished
from atende.errors import MalformedPayloadError

DATA = Path(__file__).resolve().parents[3] / "data" / "youtube"
CHANNEL = "UCdv3AtendeDevChannel01A"


def load(name: str) -> bytes:
    return (DATA / f"{name}.xml").read_bytes()


def only(events: list[InboundEvent]) -> InboundEvent:
    assert len(events) == 1
    return events[0]


def test_a_new_upload_is_a_video_published_event() -> None:
    event = only(parse_notification(load("notification_new_video")))
    assert isinstance(event, VideoPublished)
    assert event.channel == "youtube"
    assert event.video_id == "dQ9mN2vR4sT"
    assert event.title == "Promoção de Black Friday: corte + barba"
    assert event.updated is False
    assert event.account_id == CHANNEL
    assert event.contact_id is None
    assert event.occurred_at == datetime(2026, 11, 25, 13, 2, 11, 884513, tzinfo=UTC)
    assert event.event_id == "dQ9mN2vR4sT:2026-11-25T13:02:11.884513+00:00"


def test_the_documented_example_is_an_update_of_an_older_video() -> None:
    # YouTube's guide: published 2015-03-06, updated 2015-03-09 (a title or description edit).
    event = only(parse_notification(load("notification_updated_video")))
    assert isinstance(event, VideoPublished)
    assert event.updated is True
    assert event.video_id == "Xq3bH7kPz1Q"
    assert event.event_id == "Xq3bH7kPz1Q:2015-03-09T19:05:24.552394+00:00"


def test_each_change_of_a_video_has_its_own_event_id_and_a_redelivery_the_same_one() -> None:
    published = datetime(2026, 11, 25, 13, 0, 4, tzinfo=UTC)

    def version(updated: datetime, title: str) -> VideoPublished:
        body = sample.video_notification(
            video_id="dQ9mN2vR4sT", title=title, published=published, updated=updated
        )
        event = only(parse_notification(body))
        assert isinstance(event, VideoPublished)
        return event

    upload = version(datetime(2026, 11, 25, 13, 2, tzinfo=UTC), "Corte")
    again = version(datetime(2026, 11, 25, 13, 2, tzinfo=UTC), "Corte")
    edit = version(datetime(2026, 11, 27, 8, 0, tzinfo=UTC), "Corte e barba")
    assert upload.event_id == again.event_id
    assert edit.event_id != upload.event_id
    assert (upload.updated, edit.updated) == (False, True)


def test_an_entry_updated_a_few_minutes_after_publishing_is_still_an_upload() -> None:
    published = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    body = sample.video_notification(
        video_id="dQ9mN2vR4sT",
        title="t",
        published=published,
        updated=datetime(2026, 11, 25, 13, 14, tzinfo=UTC),
    )
    event = only(parse_notification(body))
    assert isinstance(event, VideoPublished) and event.updated is False


def test_every_entry_of_a_notification_is_an_event_in_order() -> None:
    events = parse_notification(load("notification_two_videos"))
    assert [e.video_id for e in events if isinstance(e, VideoPublished)] == [
        "aB3cD4eF5gH",
        "iJ6kL7mN8oP",
    ]
    assert len(events) == 2


def test_the_raw_entry_is_kept_as_xml() -> None:
    event = only(parse_notification(load("notification_new_video")))
    raw = event.raw["xml"]
    assert "dQ9mN2vR4sT" in raw and "Black Friday" in raw
    assert "http://www.youtube.com/xml/schemas/2015" in raw
    assert "YouTube video feed" not in raw  # the entry, not the whole feed


def test_a_deleted_video_is_kept_as_an_unsupported_event_of_its_channel() -> None:
    event = only(parse_notification(load("notification_deleted_video")))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "video_deleted"
    assert event.account_id == CHANNEL
    assert event.event_id == "deleted:dQ9mN2vR4sT:2026-11-26T09:15:42.318734+00:00"
    assert event.occurred_at == datetime(2026, 11, 26, 9, 15, 42, 318734, tzinfo=UTC)
    assert "yt:video:dQ9mN2vR4sT" in event.raw["xml"]


def test_the_sample_tombstone_parses_like_youtubes() -> None:
    when = datetime(2026, 11, 26, 9, 15, 42, tzinfo=UTC)
    body = sample.deleted_notification(video_id="dQ9mN2vR4sT", when=when)
    event = only(parse_notification(body))
    assert isinstance(event, UnsupportedEvent)
    assert (event.reason, event.account_id, event.occurred_at) == ("video_deleted", CHANNEL, when)


def test_a_tombstone_without_its_channel_takes_the_feed_topic_channel() -> None:
    body = (
        b"<feed xmlns='http://www.w3.org/2005/Atom' "
        b"xmlns:at='http://purl.org/atompub/tombstones/1.0'>"
        b"<link rel='self' href='https://www.youtube.com/xml/feeds/videos.xml?channel_id="
        + CHANNEL.encode()
        + b"'/><at:deleted-entry ref='yt:video:dQ9mN2vR4sT' "
        b"when='2026-11-26T09:15:42+00:00'/></feed>"
    )
    event = only(parse_notification(body))
    assert isinstance(event, UnsupportedEvent)
    assert (event.reason, event.account_id) == ("video_deleted", CHANNEL)


def test_a_tombstone_that_names_no_video_is_malformed_but_kept() -> None:
    body = (
        b"<feed xmlns='http://www.w3.org/2005/Atom' "
        b"xmlns:at='http://purl.org/atompub/tombstones/1.0'>"
        b"<at:deleted-entry ref='tag:example.com,2026:x' when='2026-11-26T09:15:42+00:00'/>"
        b"</feed>"
    )
    event = only(parse_notification(body))
    assert isinstance(event, UnsupportedEvent) and event.reason == "malformed_item"


def test_an_entry_without_a_video_id_is_kept_as_malformed() -> None:
    event = only(parse_notification(load("entry_without_video_id")))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "malformed_item"
    assert event.account_id == CHANNEL  # from the feed's self link: the tenant is still known
    assert event.event_id.startswith("unsupported:")
    assert event.event_id == only(parse_notification(load("entry_without_video_id"))).event_id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("updated", "yesterday"),
        ("updated", "2026-11-25T13:02:11"),  # no offset: RFC 3339 requires one
        ("updated", ""),
        ("yt:videoId", "not an id"),
        ("yt:channelId", ""),
    ],
)
def test_an_entry_with_an_unusable_field_is_kept_as_malformed(field: str, value: str) -> None:
    body = load("notification_new_video").decode()
    start = body.index(f"<{field}>", body.index("<entry>"))
    end = body.index(f"</{field}>", start)
    body = body[: start + len(field) + 2] + value + body[end:]
    event = only(parse_notification(body.encode()))
    assert isinstance(event, UnsupportedEvent) and event.reason == "malformed_item"


def test_an_entry_without_published_is_taken_as_an_upload() -> None:
    body = load("notification_new_video").decode()
    start = body.index("<published>")
    body = body[:start] + body[body.index("</published>") + len("</published>") :]
    event = only(parse_notification(body.encode()))
    assert isinstance(event, VideoPublished) and event.updated is False


def test_an_unknown_element_in_the_feed_is_kept_not_dropped() -> None:
    event = only(parse_notification(load("unknown_feed_element")))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "unsupported_element:liveBroadcast"
    assert event.account_id == CHANNEL


def test_xml_that_is_not_an_atom_feed_is_kept_as_an_unknown_document() -> None:
    event = only(parse_notification(load("not_an_atom_feed")))
    assert isinstance(event, UnsupportedEvent)
    assert (event.reason, event.account_id) == ("unknown_document", "")


def test_a_feed_without_entries_is_kept_as_empty() -> None:
    event = only(parse_notification(load("empty_feed")))
    assert isinstance(event, UnsupportedEvent) and event.reason == "empty_feed"


@pytest.mark.parametrize(
    "name",
    [
        "truncated",
        "entity_expansion_bomb",
        "external_entity",
        "doctype_without_entities",
    ],
)
def test_malformed_or_unsafe_xml_is_refused(name: str) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_notification(load(name))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b'{"object": "page"}', id="json"),
        pytest.param(b"\xff\xfe<feed/>", id="bad-encoding"),
    ],
)
def test_a_body_that_is_not_xml_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_notification(body)


def test_the_bomb_is_refused_before_any_expansion() -> None:
    # If entities were expanded the title would be 10^9 "lol"s; refusing must be instant and
    # say why, not run out of memory.
    with pytest.raises(MalformedPayloadError) as caught:
        parse_notification(load("entity_expansion_bomb"))
    assert type(caught.value.__cause__).__name__ in {"DTDForbidden", "EntitiesForbidden"}


def test_a_deeply_nested_body_is_refused_rather_than_recursed_into() -> None:
    depth = 50_000
    body = (
        b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>"
        + b"<a>" * depth
        + b"</a>" * depth
        + b"</entry></feed>"
    )
    with pytest.raises(MalformedPayloadError):
        parse_notification(body)
