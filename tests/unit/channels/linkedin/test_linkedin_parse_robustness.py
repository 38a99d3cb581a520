"""Odd LinkedIn payloads never crash and never vanish: each becomes an UnsupportedEvent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atende.channels.linkedin.parse import parse_delivery
from atende.domain.events import CommentReceived, UnsupportedEvent

ORG = "urn:li:organization:2414183"
TYPE = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"


def comment(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "notificationId": 42,
        "organizationalEntity": ORG,
        "action": "COMMENT",
        "sourcePost": "urn:li:activity:1",
        "lastModifiedAt": 1731931200000,
        "generatedActivity": "urn:li:comment:(urn:li:activity:1,2)",
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not None}


def parse(*items: object) -> list[Any]:
    return parse_delivery(json.dumps({"type": TYPE, "notifications": list(items)}).encode())


@pytest.mark.parametrize(
    "item",
    [
        pytest.param("a string", id="not-an-object"),
        pytest.param(comment(notificationId=None), id="no-notification-id"),
        pytest.param(comment(notificationId=True), id="boolean-id"),
        pytest.param(comment(organizationalEntity=None), id="no-organization"),
        pytest.param(comment(action=None), id="no-action"),
        pytest.param(comment(action=7), id="action-not-a-string"),
        pytest.param(comment(generatedActivity=None), id="no-comment-urn"),
        pytest.param(comment(lastModifiedAt="yesterday"), id="timestamp-not-a-number"),
        pytest.param(comment(lastModifiedAt=10**16), id="timestamp-out-of-range"),
    ],
)
def test_a_malformed_notification_is_kept_as_unsupported(item: object) -> None:
    [event] = parse(item)
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "malformed_item"
    assert event.raw == (item if isinstance(item, dict) else {"item": item})


def test_one_bad_notification_costs_only_itself() -> None:
    events = parse("garbage", comment(), comment(notificationId=43, action="LIKE"))
    assert [type(e) for e in events] == [UnsupportedEvent, CommentReceived, UnsupportedEvent]


def test_a_string_notification_id_is_used_as_it_is() -> None:
    [event] = parse(comment(notificationId="n-1"))
    assert event.event_id == "n-1"


@pytest.mark.parametrize(
    "delivery",
    [
        pytest.param({"type": TYPE}, id="no-notifications"),
        pytest.param({"type": TYPE, "notifications": {"a": 1}}, id="notifications-not-a-list"),
        pytest.param({"notifications": []}, id="no-type"),
    ],
)
def test_a_malformed_envelope_is_kept_whole(delivery: dict[str, Any]) -> None:
    [event] = parse_delivery(json.dumps(delivery).encode())
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "malformed_item" and event.raw == delivery


def test_an_unknown_type_is_named_in_the_reason() -> None:
    delivery = {"type": "SOMETHING_NEW", "payload": {"x": 1}}
    [event] = parse_delivery(json.dumps(delivery).encode())
    assert isinstance(event, UnsupportedEvent) and event.reason == "unsupported_type:SOMETHING_NEW"
