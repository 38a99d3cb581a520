"""parse_delivery never raises on a JSON object: odd items become explicit unsupported events."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from atende.channels.whatsapp.parse import parse_delivery
from atende.domain.events import (
    INBOUND_EVENT,
    MessageReceived,
    UnsupportedEvent,
)
from atende.errors import MalformedPayloadError

DATA = Path(__file__).resolve().parents[3] / "data" / "whatsapp"
PHONE_NUMBER_ID = "106540352242922"
CONTACT = "5511999990000"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIXTURES = sorted(path.stem for path in DATA.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return document


def body_of(document: object) -> bytes:
    return json.dumps(document).encode("utf-8")


def first_value(document: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = document["entry"][0]["changes"][0]["value"]
    return value


def unsupported_id(item: object) -> str:
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"))
    return "unsupported:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_unknown_object_is_one_explicit_event() -> None:
    document = {"object": "page", "entry": [{"id": "1", "messaging": []}]}
    (event,) = parse_delivery(body_of(document))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "unknown_object"
    assert event.account_id == ""
    assert event.event_id == unsupported_id(document)


def test_missing_phone_number_id_is_explicit() -> None:
    document = load("message_text")
    del first_value(document)["metadata"]["phone_number_id"]
    (event,) = parse_delivery(body_of(document))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "missing_phone_number_id"
    assert event.account_id == ""


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda item: item.pop("id"), id="no-id"),
        pytest.param(lambda item: item.update(id=""), id="empty-id"),
        pytest.param(lambda item: item.update(timestamp="yesterday"), id="word-timestamp"),
        pytest.param(lambda item: item.update(timestamp="9" * 40), id="huge-timestamp"),
        pytest.param(lambda item: item.pop("timestamp"), id="no-timestamp"),
        pytest.param(lambda item: item.update(type=7), id="non-string-type"),
    ],
)
def test_unidentifiable_message_is_malformed_item_with_stable_id(mutate: Any) -> None:
    document = load("message_text")
    item = first_value(document)["messages"][0]
    mutate(item)

    first = parse_delivery(body_of(document))
    again = parse_delivery(body_of(document))

    assert first == again
    (event,) = first
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "malformed_item"
    assert event.event_id == unsupported_id(item)
    assert event.occurred_at == EPOCH
    assert event.account_id == PHONE_NUMBER_ID


def test_one_bad_item_does_not_cost_its_neighbours() -> None:
    document = load("delivery_multiple_entries_and_changes")
    first_value(document)["messages"].insert(1, None)
    events = parse_delivery(body_of(document))
    assert len(events) == 7
    assert isinstance(events[1], UnsupportedEvent)
    assert events[1].reason == "malformed_item"
    assert events[1].raw == {"item": None}
    assert isinstance(events[0], MessageReceived)
    assert isinstance(events[2], MessageReceived)


def test_change_level_errors_are_kept_explicitly() -> None:
    document = load("status_read")
    value = first_value(document)
    del value["statuses"]
    value["errors"] = [{"code": 131000, "title": "Something went wrong"}]
    (event,) = parse_delivery(body_of(document))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "provider_errors"
    assert event.account_id == PHONE_NUMBER_ID


@pytest.mark.parametrize("messages", [[], None])
def test_change_without_items_is_explicitly_empty(messages: object) -> None:
    document = load("message_text")
    if messages is None:
        del first_value(document)["messages"]
    else:
        first_value(document)["messages"] = messages
    (event,) = parse_delivery(body_of(document))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "empty_change"


def test_messages_that_are_not_a_list_do_not_hide_the_statuses() -> None:
    document = load("status_read")
    first_value(document)["messages"] = {"id": "wamid.X"}
    events = parse_delivery(body_of(document))
    assert [event.type for event in events] == ["unsupported", "message_read"]
    assert isinstance(events[0], UnsupportedEvent)
    assert events[0].reason == "malformed_item"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not json", id="text"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b'"text"', id="string"),
        pytest.param(b"null", id="null"),
        pytest.param(b"\xff\xfe{", id="bad-utf8"),
        pytest.param(b'{"a":' * 100_000, id="too-deep"),
        pytest.param(b'{"a": ' + b"9" * 5000 + b"}", id="over-long-integer"),
    ],
)
def test_body_that_is_not_a_json_object_is_rejected(body: bytes) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_delivery(body)


# Wrong types and edge values Meta never documents but a bug or an attacker could send.
REPLACEMENTS: list[Any] = [None, [], {}, "", "x", 0, -1, 1.5, True, 10**30, [None], {"a": None}]
Path_ = tuple[str | int, ...]


def paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every key and index path under `node`, parents before children."""
    children: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    for key, child in children:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def mutations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in paths(document):
        for replacement in [*REPLACEMENTS, "delete"]:
            mutated = copy.deepcopy(document)
            parent: Any = mutated
            for key in path[:-1]:
                parent = parent[key]
            if replacement == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            yield mutated


def assert_well_formed(body: bytes) -> None:
    events = parse_delivery(body)
    for event in events:
        assert event.event_id
        assert event.channel == "whatsapp"
        # Events go to a queue as JSON: they must survive the trip unchanged.
        assert INBOUND_EVENT.validate_json(INBOUND_EVENT.dump_json(event)) == event
        if isinstance(event, UnsupportedEvent) and event.event_id.startswith("unsupported:"):
            assert re.fullmatch(r"unsupported:[0-9a-f]{64}", event.event_id)
            assert event.occurred_at == EPOCH


@pytest.mark.parametrize("name", FIXTURES)
def test_mutated_fixture_never_raises(name: str) -> None:
    document = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    count = 0
    for mutated in mutations(document):
        assert_well_formed(json.dumps(mutated).encode("utf-8"))
        count += 1
    assert count > 50


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"object": None},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": None},
        {"object": "whatsapp_business_account", "entry": {}},
        {"object": "whatsapp_business_account", "entry": [None, 1, "x", [], {}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [None, [], {}, 3]}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": None}]}]},
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": []}]}],
        },
    ],
)
def test_odd_envelopes_never_raise(document: dict[str, Any]) -> None:
    assert_well_formed(json.dumps(document).encode("utf-8"))
