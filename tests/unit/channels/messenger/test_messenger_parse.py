"""Messenger deliveries, from the documented webhook formats, as the internal events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from atende.channels.messenger.parse import parse_delivery
from atende.domain.events import (
    MessageDelivered,
    MessageKind,
    MessageRead,
    MessageReceived,
    ReactionReceived,
    UnsupportedEvent,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "messenger"
PAGE = "108746935218864"
PSID = "6543210987654321"
SENT_AT = datetime(2024, 7, 1, 12, 12, 0, 123000, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return document


def parse(name: str) -> list[Any]:
    return parse_delivery(json.dumps(load(name)).encode())


def only(name: str) -> Any:
    (event,) = parse(name)
    return event


# fixture, kind, text, choice_id, provider_kind
MESSAGES = [
    ("message_text", MessageKind.TEXT, "Olá, qual o horário de atendimento?", None, None),
    (
        "message_quick_reply",
        MessageKind.INTERACTIVE,
        "2ª via de boleto",
        "billing_second_copy",
        None,
    ),
    (
        "message_quick_reply_handoff",
        MessageKind.INTERACTIVE,
        "Falar com atendente",
        "handoff",
        None,
    ),
    ("message_reply_to", MessageKind.TEXT, "Esse mesmo", None, None),
    ("message_attachment_image", MessageKind.IMAGE, None, None, None),
    ("message_attachment_audio", MessageKind.AUDIO, None, None, None),
    ("message_attachment_video", MessageKind.VIDEO, None, None, None),
    ("message_attachment_file", MessageKind.DOCUMENT, None, None, None),
    ("message_attachment_sticker", MessageKind.STICKER, None, None, None),
    # A shared link: something shared, not written; what the contact typed with it is text.
    ("message_attachment_fallback", MessageKind.SHARE, None, None, "attachment:fallback"),
    (
        "message_attachment_fallback_with_text",
        MessageKind.SHARE,
        "Vocês têm essa promoção na loja de Campinas? https://www.example.com/promocao",
        None,
        "attachment:fallback",
    ),
    ("postback", MessageKind.BUTTON, "Ver horários", "opening_hours", "postback"),
    ("postback_handoff", MessageKind.BUTTON, "Falar com atendente", "handoff", "postback"),
]


@pytest.mark.parametrize(("name", "kind", "text", "choice_id", "provider_kind"), MESSAGES)
def test_every_message_kind(
    name: str, kind: MessageKind, text: str | None, choice_id: str | None, provider_kind: str | None
) -> None:
    document = load(name)
    item = document["entry"][0]["messaging"][0]
    event = only(name)
    assert isinstance(event, MessageReceived)
    assert event.channel == "messenger"
    assert (event.kind, event.text, event.choice_id, event.provider_kind) == (
        kind,
        text,
        choice_id,
        provider_kind,
    )
    assert event.contact_id == PSID and event.account_id == PAGE
    mid = (item.get("message") or item["postback"])["mid"]
    assert event.event_id == event.message_id == mid
    assert event.occurred_at == SENT_AT
    assert event.raw == item


def test_media_messages_say_they_carry_media() -> None:
    assert only("message_attachment_image").media is not None
    assert only("message_text").media is None


def test_a_reply_names_the_message_it_answers() -> None:
    assert only("message_reply_to").reply_to == "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU"


def test_an_echo_of_our_own_send_produces_no_event() -> None:
    assert parse("message_echo") == []


def test_a_reaction_and_its_removal() -> None:
    reacted, removed = only("reaction"), only("reaction_unreact")
    assert isinstance(reacted, ReactionReceived) and isinstance(removed, ReactionReceived)
    assert reacted.target_message_id == "m_1457764197618:41d102a3e1ae206a39"
    assert reacted.emoji == "❤️" and removed.emoji is None
    assert reacted.contact_id == PSID and reacted.account_id == PAGE
    assert reacted.event_id != removed.event_id


def test_a_read_is_a_watermark() -> None:
    event = only("read")
    assert isinstance(event, MessageRead)
    assert event.provider_message_id == "watermark:1719835925000"
    assert event.contact_id == PSID and event.account_id == PAGE
    assert PSID not in event.event_id


def test_a_delivery_is_one_delivered_event_per_mid() -> None:
    events = parse("delivery")
    assert all(isinstance(event, MessageDelivered) for event in events)
    assert [e.provider_message_id for e in events] == [
        "m_sandbox.1",
        "m_1457764197618:41d102a3e1ae206a39",
    ]
    assert [e.event_id for e in events] == [
        "m_sandbox.1:delivered",
        "m_1457764197618:41d102a3e1ae206a39:delivered",
    ]
    # The documented delivery has no timestamp: the entry's time stands in.
    assert events[0].occurred_at == datetime(2024, 7, 1, 12, 12, 0, 623000, tzinfo=UTC)


def test_a_delivery_without_mids_is_its_watermark() -> None:
    event = only("delivery_watermark_only")
    assert isinstance(event, MessageDelivered)
    assert event.provider_message_id == "watermark:1719835921000"


def test_an_edit_is_kept_as_unsupported() -> None:
    event = only("message_edit")
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "unsupported_messaging:message_edit"
    assert event.account_id == PAGE


def test_a_standby_message_is_kept_but_never_a_message_to_answer() -> None:
    event = only("standby")
    assert isinstance(event, UnsupportedEvent) and event.reason == "standby"


def test_several_entries_keep_delivery_order() -> None:
    events = parse("delivery_multiple_entries")
    assert [type(e).__name__ for e in events] == [
        "MessageReceived",
        "MessageReceived",
        "MessageRead",
    ]
    assert [e.event_id for e in events][:2] == ["m_A1", "m_A2"]
