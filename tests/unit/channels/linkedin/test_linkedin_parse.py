"""parse_delivery over LinkedIn-shaped fixtures: one event per notification, raw kept,
nothing lost, nothing guessed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from atende.channels.linkedin.parse import parse_delivery
from atende.domain.events import CommentReceived, UnsupportedEvent
from atende.errors import MalformedPayloadError

DATA = Path(__file__).resolve().parents[3] / "data" / "linkedin"
ORG = "urn:li:organization:2414183"
ACTIVITY = "urn:li:activity:7094637247890620418"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return document


def body_of(document: object) -> bytes:
    return json.dumps(document).encode("utf-8")


def test_a_comment_on_an_organization_post_is_a_comment_received() -> None:
    document = load("notification_comment")
    [event] = parse_delivery(body_of(document))
    assert isinstance(event, CommentReceived)
    assert event.channel == "linkedin"
    assert event.event_id == "5603453321"  # the notification id LinkedIn tells us to dedupe on
    assert event.account_id == ORG
    assert event.contact_id == "urn:li:person:Dk968RHxiO"
    assert event.comment_id == f"urn:li:comment:({ACTIVITY},7094977717598625792)"
    assert event.target_id == ACTIVITY
    assert event.text == "Vocês atendem aos sábados?"
    assert event.occurred_at == datetime(2024, 11, 18, 12, 0, tzinfo=UTC)
    assert event.raw == document["notifications"][0]


@pytest.mark.parametrize(
    ("fixture", "action"),
    [
        ("notification_like", "LIKE"),
        ("notification_share", "SHARE"),
        ("notification_share_mention", "SHARE_MENTION"),
        ("notification_admin_comment", "ADMIN_COMMENT"),
        ("notification_comment_edit", "COMMENT_EDIT"),
        ("notification_comment_delete", "COMMENT_DELETE"),
    ],
)
def test_other_social_actions_are_kept_as_unsupported_events(fixture: str, action: str) -> None:
    document = load(fixture)
    [event] = parse_delivery(body_of(document))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == f"unsupported_action:{action}"
    assert event.event_id == str(document["notifications"][0]["notificationId"])
    assert event.account_id == ORG
    assert event.occurred_at > EPOCH
    assert event.raw == document["notifications"][0]


def test_a_batch_gives_one_event_per_notification_in_order() -> None:
    events = parse_delivery(body_of(load("delivery_batch_mixed")))
    assert [e.event_id for e in events] == ["5603453331", "5603453332", "5603453333"]
    assert [e.type for e in events] == ["comment_received", "unsupported", "comment_received"]
    assert [getattr(e, "text", None) for e in events] == [
        "Qual o telefone de vocês?",
        None,
        "Quero falar com um atendente.",
    ]


def test_another_notification_type_is_kept_whole_without_an_account() -> None:
    document = load("lead_action")
    [event] = parse_delivery(body_of(document))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "unsupported_type:LEAD_ACTION"
    assert event.account_id == ""
    assert event.raw == document
    assert parse_delivery(body_of(document))[0].event_id == event.event_id  # stable


def test_a_delivery_without_notifications_is_a_ping() -> None:
    body = body_of({"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": []})
    assert parse_delivery(body) == []


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[1, 2]", b'"text"', b"null"])
def test_a_body_that_is_not_a_json_object_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_delivery(body)


def test_a_comment_text_in_the_comments_api_shape_is_read() -> None:
    document = load("notification_comment")
    comment = document["notifications"][0]["decoratedGeneratedActivity"]["comment"]
    comment["message"] = {"text": comment.pop("text")}
    [event] = parse_delivery(body_of(document))
    assert isinstance(event, CommentReceived) and event.text == "Vocês atendem aos sábados?"


def test_a_comment_without_decoration_falls_back_to_the_generated_activity() -> None:
    document = load("notification_comment")
    del document["notifications"][0]["decoratedGeneratedActivity"]
    [event] = parse_delivery(body_of(document))
    assert isinstance(event, CommentReceived)
    assert event.comment_id == document["notifications"][0]["generatedActivity"]
    assert event.text is None and event.contact_id is None
