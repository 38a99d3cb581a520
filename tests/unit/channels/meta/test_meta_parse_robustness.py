"""parse_delivery never raises on a JSON object: odd items become explicit unsupported events,
so one bad item never costs the rest of a delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from atende.channels.meta.parse import Change, Product, parse_delivery
from atende.domain.events import (
    INBOUND_EVENT,
    InboundEvent,
    MessageDelivered,
    MessageRead,
    MessageReceived,
    UnsupportedEvent,
)
from atende.errors import MalformedPayloadError

PRODUCT = Product(channel="messenger", object_name="page")
PAGE = "108746935218864"
PSID = "6543210987654321"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def body_of(document: object) -> bytes:
    return json.dumps(document).encode("utf-8")


def item(**body: object) -> dict[str, Any]:
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1719835920123, **body}


def delivery(*items: object, **entry: object) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [{"id": PAGE, "time": 1719835920623, "messaging": list(items), **entry}],
    }


def parse(document: object) -> list[InboundEvent]:
    return parse_delivery(body_of(document), PRODUCT)


@pytest.mark.parametrize("body", [b"not json", b"{", b"\xff\xfe", b"[" * 100_000])
def test_a_body_that_is_not_json_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_delivery(body, PRODUCT)


@pytest.mark.parametrize("document", [[], "page", 1, None])
def test_a_body_that_is_not_an_object_is_malformed(document: object) -> None:
    with pytest.raises(MalformedPayloadError):
        parse(document)


def test_another_object_is_one_unsupported_event() -> None:
    (event,) = parse({"object": "instagram", "entry": []})
    assert isinstance(event, UnsupportedEvent) and event.reason == "unknown_object"
    assert event.account_id == ""


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"object": "page"}, "malformed_item"),
        ({"object": "page", "entry": {"id": PAGE}}, "malformed_item"),
        ({"object": "page", "entry": [7]}, "malformed_item"),
        ({"object": "page", "entry": [{"id": PAGE, "time": 1}]}, "empty_entry"),
        ({"object": "page", "entry": [{"id": PAGE, "messaging": {}}]}, "malformed_item"),
        (
            {"object": "page", "entry": [{"id": PAGE, "changes": [{"field": "feed"}]}]},
            "unsupported_field:feed",
        ),
        ({"object": "page", "entry": [{"id": PAGE, "changes": [{"value": {}}]}]}, "malformed_item"),
        (
            {"object": "page", "entry": [{"id": PAGE, "field": "feed", "value": {}}]},
            "unsupported_field:feed",
        ),
    ],
)
def test_odd_envelopes_are_explicit(document: dict[str, Any], reason: str) -> None:
    (event,) = parse(document)
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == reason


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(7, id="not-an-object"),
        pytest.param(item(message={"text": "sem mid"}), id="no-mid"),
        pytest.param(item(message={"mid": "", "text": "x"}), id="empty-mid"),
        pytest.param(item(message={"mid": 12, "text": "x"}), id="numeric-mid"),
        pytest.param({**item(message={"mid": "m_1", "text": "x"}), "sender": {}}, id="no-sender"),
        pytest.param(
            {**item(postback={"payload": "x"}), "sender": {"user_ref": "ref"}}, id="user-ref"
        ),
        pytest.param(item(read={}), id="read-without-watermark"),
        pytest.param(item(read={"watermark": "soon"}), id="word-watermark"),
        pytest.param(item(delivery={"mids": [5], "watermark": 1}), id="numeric-delivered-mid"),
        pytest.param({"sender": {"id": PSID}}, id="nothing"),
    ],
)
def test_an_unreadable_item_is_kept_and_the_rest_of_the_delivery_survives(bad: object) -> None:
    good = item(message={"mid": "m_ok", "text": "Oi"})
    events = parse(delivery(bad, good))
    assert isinstance(events[0], UnsupportedEvent)
    assert events[0].reason == "malformed_item"
    assert events[0].account_id == PAGE
    assert isinstance(events[-1], MessageReceived) and events[-1].message_id == "m_ok"


def test_an_unknown_messaging_item_names_its_kind() -> None:
    (event,) = parse(delivery(item(optin={"type": "notification_messages"})))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "unsupported_messaging:optin"
    assert event.contact_id == PSID
    assert event.occurred_at == datetime(2024, 7, 1, 12, 12, 0, 123000, tzinfo=UTC)


def test_the_unsupported_id_is_stable_across_redeliveries() -> None:
    document = delivery(item(optin={"type": "one_time_notif_req"}))
    assert parse(document)[0].event_id == parse(json.loads(json.dumps(document)))[0].event_id


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        (1719835920123, datetime(2024, 7, 1, 12, 12, 0, 123000, tzinfo=UTC)),  # milliseconds
        (1719835920, datetime(2024, 7, 1, 12, 12, tzinfo=UTC)),  # seconds
        ("1527459824", datetime(2018, 5, 27, 22, 23, 44, tzinfo=UTC)),  # a seconds string
    ],
)
def test_timestamps_in_milliseconds_or_seconds(stamp: object, expected: datetime) -> None:
    (event,) = parse(delivery({**item(message={"mid": "m_1", "text": "x"}), "timestamp": stamp}))
    assert event.occurred_at == expected


@pytest.mark.parametrize("stamp", ["yesterday", "9" * 40, -5, True, None])
def test_a_message_without_a_usable_time_takes_the_entry_time(stamp: object) -> None:
    (event,) = parse(delivery({**item(message={"mid": "m_1", "text": "x"}), "timestamp": stamp}))
    assert isinstance(event, MessageReceived)
    assert event.occurred_at == datetime(2024, 7, 1, 12, 12, 0, 623000, tzinfo=UTC)


def test_without_any_usable_time_a_message_is_malformed() -> None:
    document = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "messaging": [{**item(message={"mid": "m_1", "text": "x"}), "timestamp": "soon"}],
            }
        ],
    }
    (event,) = parse(document)
    assert isinstance(event, UnsupportedEvent) and event.occurred_at == EPOCH


def test_the_account_falls_back_to_the_entry_id() -> None:
    (event,) = parse(delivery({**item(message={"mid": "m_1", "text": "x"}), "recipient": {}}))
    assert event.account_id == PAGE


def test_a_change_parser_sees_the_field_value_and_entry() -> None:
    seen: list[Change] = []

    def record(change: Change, channel: str) -> list[InboundEvent]:
        seen.append(change)
        return []

    product = Product(
        channel="instagram", object_name="instagram", change_parsers={"comments": record}
    )
    document = {
        "object": "instagram",
        "entry": [
            {
                "id": "17841405822304914",
                "time": 1719835920,
                "changes": [{"field": "comments", "value": {"id": "1"}}],
            }
        ],
    }
    assert parse_delivery(body_of(document), product) == []
    (change,) = seen
    assert (change.field, change.value, change.account_id) == (
        "comments",
        {"id": "1"},
        "17841405822304914",
    )
    assert change.entry_time == datetime(2024, 7, 1, 12, 12, tzinfo=UTC)


def test_a_value_a_model_refuses_costs_one_item() -> None:
    def explode(change: Change, channel: str) -> list[InboundEvent]:
        return [INBOUND_EVENT.validate_python({"type": "unsupported"})]

    product = Product(
        channel="instagram", object_name="instagram", change_parsers={"comments": explode}
    )
    document = {
        "object": "instagram",
        "entry": [{"id": "1", "changes": [{"field": "comments", "value": {}}]}],
    }
    (event,) = parse_delivery(body_of(document), product)
    assert isinstance(event, UnsupportedEvent) and event.reason == "malformed_item"


def test_every_event_survives_the_task_round_trip() -> None:
    document = delivery(
        item(message={"mid": "m_1", "text": "Oi"}),
        item(postback={"mid": "m_2", "title": "T", "payload": "p"}),
        item(reaction={"mid": "m_1", "action": "react", "emoji": "👍"}),
        item(read={"watermark": 1719835925000}),
        item(delivery={"mids": ["m_3"], "watermark": 1719835925000}),
        item(optin={}),
    )
    for event in parse(document):
        assert INBOUND_EVENT.validate_json(event.model_dump_json()) == event


def test_a_huge_numeric_timestamp_is_not_a_time() -> None:
    document = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "messaging": [{**item(message={"mid": "m_1", "text": "x"}), "timestamp": 10**20}],
            }
        ],
    }
    (event,) = parse(document)
    assert isinstance(event, UnsupportedEvent) and event.reason == "malformed_item"


def test_a_message_with_no_content_we_know_is_an_unsupported_message() -> None:
    (event,) = parse(delivery(item(message={"mid": "m_1", "referral": {"product": {"id": "1"}}})))
    assert isinstance(event, MessageReceived)
    assert (event.kind.value, event.provider_kind) == ("unsupported", "message")


def timeless(**body: object) -> dict[str, Any]:
    """An entry without a time, holding one item without a timestamp."""
    one = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, **body}
    return {"object": "page", "entry": [{"id": PAGE, "messaging": [one]}]}


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(timeless(reaction={"mid": "m_1", "action": "react"}), id="reaction"),
        pytest.param(timeless(read={"watermark": 1719835925000}), id="read"),
        pytest.param(timeless(postback={"mid": "m_1", "payload": "p"}), id="postback"),
        pytest.param(timeless(delivery={"mids": ["m_1"]}), id="delivery-without-watermark"),
        pytest.param(delivery(item(delivery={"mids": []})), id="delivery-with-nothing"),
    ],
)
def test_status_and_reaction_items_without_what_identifies_them_are_malformed(
    document: dict[str, Any],
) -> None:
    (event,) = parse(document)
    assert isinstance(event, UnsupportedEvent) and event.reason == "malformed_item"


def test_a_delivery_without_a_timestamp_takes_the_watermark_time() -> None:
    (event,) = parse(timeless(delivery={"mids": ["m_1"], "watermark": "1719835921000"}))
    assert isinstance(event, MessageDelivered)
    assert event.occurred_at == datetime(2024, 7, 1, 12, 12, 1, tzinfo=UTC)


def test_a_string_watermark_is_read() -> None:
    (event,) = parse(delivery(item(read={"watermark": "1719835925000"})))
    assert isinstance(event, MessageRead)
    assert event.provider_message_id == "watermark:1719835925000"
