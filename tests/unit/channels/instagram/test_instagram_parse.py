"""Instagram deliveries (messaging and comments), from the documented webhook formats."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from atende.channels.instagram.parse import parse_delivery
from atende.domain.events import (
    CommentReceived,
    MessageKind,
    MessageRead,
    MessageReceived,
    ReactionReceived,
    UnsupportedEvent,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "instagram"
ACCOUNT = "17841405822304914"
IGSID = "1096484225389462"
COMMENTER = "2397345603947561"
SENT_AT = datetime(2024, 7, 1, 12, 12, 0, 123000, tzinfo=UTC)
ENTRY_AT = datetime(2024, 7, 1, 12, 12, 0, 623000, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return document


def parse(name: str) -> list[Any]:
    return parse_delivery(json.dumps(load(name)).encode())


def only(name: str) -> Any:
    (event,) = parse(name)
    return event


MESSAGES = [
    ("message_text", MessageKind.TEXT, "Oi! Vocês entregam em Campinas?", None, None),
    ("message_quick_reply", MessageKind.INTERACTIVE, "Rastrear pedido", "track_order", None),
    (
        "message_quick_reply_handoff",
        MessageKind.INTERACTIVE,
        "Falar com atendente",
        "handoff",
        None,
    ),
    ("message_reply_to", MessageKind.TEXT, "Quanto custa?", None, None),
    ("message_attachment_image", MessageKind.IMAGE, None, None, None),
    (
        "message_attachment_story_mention",
        MessageKind.MENTION,
        None,
        None,
        "attachment:story_mention",
    ),
    # A shared post: `share` first, then (since November 2025) the same post as `ig_post`.
    ("message_attachment_share", MessageKind.SHARE, None, None, "attachment:share"),
    ("message_unsupported", MessageKind.UNSUPPORTED, None, None, "unsupported"),
    ("postback", MessageKind.BUTTON, "Ver catálogo", "catalog", "postback"),
    ("postback_handoff", MessageKind.BUTTON, "Falar com atendente", "handoff", "postback"),
]


@pytest.mark.parametrize(("name", "kind", "text", "choice_id", "provider_kind"), MESSAGES)
def test_every_message_kind(
    name: str, kind: MessageKind, text: str | None, choice_id: str | None, provider_kind: str | None
) -> None:
    item = load(name)["entry"][0]["messaging"][0]
    event = only(name)
    assert isinstance(event, MessageReceived)
    assert event.channel == "instagram"
    assert (event.kind, event.text, event.choice_id, event.provider_kind) == (
        kind,
        text,
        choice_id,
        provider_kind,
    )
    assert event.contact_id == IGSID and event.account_id == ACCOUNT
    assert event.event_id == (item.get("message") or item["postback"])["mid"]
    assert event.occurred_at == SENT_AT
    assert event.raw == item


def test_a_reply_to_a_message_names_it() -> None:
    reply_to = load("message_reply_to")["entry"][0]["messaging"][0]["message"]["reply_to"]["mid"]
    assert only("message_reply_to").reply_to == reply_to


def test_an_echo_of_our_own_send_produces_no_event() -> None:
    assert parse("message_echo") == []


def test_a_deleted_message_is_kept_as_unsupported_with_its_own_id() -> None:
    event = only("message_deleted")
    mid = load("message_deleted")["entry"][0]["messaging"][0]["message"]["mid"]
    assert isinstance(event, UnsupportedEvent)
    assert (event.reason, event.event_id, event.contact_id) == (
        "message_deleted",
        f"{mid}:deleted",
        IGSID,
    )


def test_a_reaction() -> None:
    event = only("reaction")
    target = load("reaction")["entry"][0]["messaging"][0]["reaction"]["mid"]
    assert isinstance(event, ReactionReceived)
    assert (event.target_message_id, event.emoji, event.contact_id) == (target, "❤️", IGSID)


def test_seen_is_a_read_of_that_message() -> None:
    event = only("seen")
    mid = load("seen")["entry"][0]["messaging"][0]["read"]["mid"]
    assert isinstance(event, MessageRead)
    assert (event.provider_message_id, event.event_id) == (mid, f"{mid}:read")
    assert event.contact_id == IGSID and event.account_id == ACCOUNT


def test_a_referral_is_kept_as_unsupported() -> None:
    event = only("referral")
    assert isinstance(event, UnsupportedEvent) and event.reason == "unsupported_messaging:referral"


def test_a_comment() -> None:
    event = only("comment")
    assert isinstance(event, CommentReceived)
    assert event.channel == "instagram"
    assert (event.comment_id, event.event_id) == ("17865799348089039", "comment:17865799348089039")
    assert (event.target_id, event.parent_id, event.live) == ("17887498072083520", None, False)
    assert event.text == "Qual o preço desse?"
    assert (event.contact_id, event.account_id) == (COMMENTER, ACCOUNT)
    assert event.occurred_at == ENTRY_AT
    assert event.raw == load("comment")["entry"][0]["changes"][0]


def test_a_reply_in_a_comment_thread_names_its_parent() -> None:
    event = only("comment_reply")
    assert isinstance(event, CommentReceived)
    assert event.parent_id == "17865799348089001"


def test_a_live_comment() -> None:
    event = only("live_comment")
    assert isinstance(event, CommentReceived)
    assert event.live is True and event.target_id == "17999284001234567"


def test_our_own_comment_produces_no_event() -> None:
    assert parse("comment_own") == []


def test_a_field_we_do_not_handle_is_kept() -> None:
    event = only("mentions_field")
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "unsupported_field:mentions" and event.account_id == ACCOUNT


def test_a_comment_in_the_business_login_shape_is_read_too() -> None:
    document = load("comment")
    entry = document["entry"][0]
    change = entry.pop("changes")[0]
    entry.update(change)
    (event,) = parse_delivery(json.dumps(document).encode())
    assert isinstance(event, CommentReceived) and event.comment_id == "17865799348089039"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("text", id="not-an-object"),
        pytest.param({"from": {"id": COMMENTER}, "text": "x"}, id="no-id"),
        pytest.param({"id": "17865799348089039", "text": "x"}, id="no-author"),
    ],
)
def test_an_unreadable_comment_is_kept(value: object) -> None:
    document = load("comment")
    document["entry"][0]["changes"][0]["value"] = value
    (event,) = parse_delivery(json.dumps(document).encode())
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "malformed_item" and event.account_id == ACCOUNT
