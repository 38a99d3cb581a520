"""parse_delivery over Meta-shaped fixtures: one event per item, raw kept, nothing lost."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from atende.channels.whatsapp.parse import parse_delivery
from atende.domain.events import (
    MessageDelivered,
    MessageFailed,
    MessageKind,
    MessageRead,
    MessageReceived,
    MessageSent,
    ProviderError,
    ReactionReceived,
    UnsupportedEvent,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "whatsapp"
PHONE_NUMBER_ID = "106540352242922"
CONTACT = "5511999990000"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


# fixture, kind, text, choice_id, provider_kind, has a reply_to
MESSAGE_CASES = [
    ("message_text", MessageKind.TEXT, "Olá, quero saber o horário de atendimento", None, None),
    ("message_image", MessageKind.IMAGE, None, None, None),
    ("message_audio", MessageKind.AUDIO, None, None, None),
    ("message_video", MessageKind.VIDEO, None, None, None),
    ("message_document", MessageKind.DOCUMENT, None, None, None),
    ("message_sticker", MessageKind.STICKER, None, None, None),
    ("message_location", MessageKind.LOCATION, None, None, None),
    ("message_contacts", MessageKind.CONTACTS, None, None, None),
    (
        "message_interactive_button_reply",
        MessageKind.INTERACTIVE,
        "Falar com atendente",
        "talk_to_agent",
        None,
    ),
    (
        "message_interactive_list_reply",
        MessageKind.INTERACTIVE,
        "2ª via de boleto",
        "billing_second_copy",
        None,
    ),
    ("message_interactive_nfm_reply", MessageKind.INTERACTIVE, "Sent", None, None),
    ("message_button", MessageKind.BUTTON, "Confirmar", "CONFIRM_APPOINTMENT", None),
    ("message_order", MessageKind.ORDER, "Quero retirar na loja", None, None),
    (
        "message_system",
        MessageKind.SYSTEM,
        "Maria Souza changed from 5511999990000 to 5511977776666",
        None,
        None,
    ),
    ("message_unsupported", MessageKind.UNSUPPORTED, None, None, "unsupported"),
    ("message_unknown_type", MessageKind.UNSUPPORTED, None, None, "poll_vote"),
    ("message_revoke", MessageKind.DELETED, None, None, "revoke"),
    (
        "message_edit",
        MessageKind.EDITED,
        "Olá, quero saber o horário de atendimento de sábado",
        None,
        "edit",
    ),
]


@pytest.mark.parametrize(("name", "kind", "text", "choice_id", "provider_kind"), MESSAGE_CASES)
def test_message_fixture_becomes_one_message_received(
    name: str, kind: MessageKind, text: str | None, choice_id: str | None, provider_kind: str | None
) -> None:
    document = load(name)
    item = first_value(document)["messages"][0]

    events = parse_delivery(body_of(document))

    assert len(events) == 1
    event = events[0]
    assert isinstance(event, MessageReceived)
    assert event.channel == "whatsapp"
    assert event.account_id == PHONE_NUMBER_ID
    assert event.contact_id == CONTACT
    assert event.event_id == event.message_id == item["id"]
    assert event.occurred_at == datetime.fromtimestamp(int(item["timestamp"]), tz=UTC)
    assert event.kind is kind
    assert event.text == text
    assert event.choice_id == choice_id
    assert event.provider_kind == provider_kind
    assert event.reply_to == item.get("context", {}).get("id")
    assert event.raw == item


@pytest.mark.parametrize("name", ["image", "audio", "video", "document", "sticker"])
def test_media_reference_is_copied_from_the_media_object(name: str) -> None:
    document = load(f"message_{name}")
    media = first_value(document)["messages"][0][name]

    (event,) = parse_delivery(body_of(document))

    assert isinstance(event, MessageReceived)
    assert event.media is not None
    assert event.media.id == media["id"]
    assert event.media.mime_type == media["mime_type"]
    assert event.media.caption == media.get("caption")
    assert event.media.filename == media.get("filename")


@pytest.mark.parametrize("name", ["message_revoke", "message_edit"])
def test_a_deletion_or_an_edit_names_the_message_it_changes(name: str) -> None:
    # Meta's revoke and edit references: `<type>.original_message_id`.
    document = load(name)
    (event,) = parse_delivery(body_of(document))
    original = load("message_text")["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert isinstance(event, MessageReceived)
    assert event.target_message_id == original
    assert event.message_id != original


def test_an_edited_caption_is_the_new_text() -> None:
    document = load("message_edit")
    item = first_value(document)["messages"][0]
    item["edit"]["message"] = {"type": "image", "image": {"caption": "Foto nova", "id": "1"}}
    (event,) = parse_delivery(body_of(document))
    assert isinstance(event, MessageReceived)
    assert (event.kind, event.text) == (MessageKind.EDITED, "Foto nova")


def test_reply_to_points_at_the_message_the_contact_answered() -> None:
    document = load("message_interactive_button_reply")
    (event,) = parse_delivery(body_of(document))
    assert isinstance(event, MessageReceived)
    assert event.reply_to is not None
    assert event.reply_to.startswith("wamid.")


def test_flow_reply_keeps_response_json_raw() -> None:
    document = load("message_interactive_nfm_reply")
    (event,) = parse_delivery(body_of(document))
    response = event.raw["interactive"]["nfm_reply"]["response_json"]
    assert json.loads(response)["topic"] == "billing"


def test_reaction_names_its_target_and_emoji() -> None:
    document = load("message_reaction")
    item = first_value(document)["messages"][0]

    (event,) = parse_delivery(body_of(document))

    assert isinstance(event, ReactionReceived)
    assert event.event_id == event.message_id == item["id"]
    assert event.target_message_id == item["reaction"]["message_id"]
    assert event.emoji == "\U0001f44d"
    assert event.contact_id == CONTACT
    assert event.raw == item


def test_removed_reaction_has_no_emoji() -> None:
    document = load("message_reaction")
    first_value(document)["messages"][0]["reaction"]["emoji"] = ""
    (event,) = parse_delivery(body_of(document))
    assert isinstance(event, ReactionReceived)
    assert event.emoji is None


def test_system_message_contact_falls_back_to_from() -> None:
    document = load("message_system")
    del first_value(document)["messages"][0]["system"]["customer"]
    (event,) = parse_delivery(body_of(document))
    assert event.contact_id == CONTACT


def test_unknown_interactive_subtype_is_explicitly_unsupported() -> None:
    document = load("message_interactive_button_reply")
    first_value(document)["messages"][0]["interactive"]["type"] = "call_permission_reply"
    (event,) = parse_delivery(body_of(document))
    assert isinstance(event, MessageReceived)
    assert event.kind is MessageKind.UNSUPPORTED
    assert event.provider_kind == "interactive:call_permission_reply"


STATUS_CASES = [
    ("status_sent", MessageSent, "sent"),
    ("status_delivered", MessageDelivered, "delivered"),
    ("status_read", MessageRead, "read"),
    ("status_failed", MessageFailed, "failed"),
]


@pytest.mark.parametrize(("name", "event_type", "status"), STATUS_CASES)
def test_status_fixture_becomes_one_status_event(
    name: str, event_type: type[object], status: str
) -> None:
    document = load(name)
    item = first_value(document)["statuses"][0]

    events = parse_delivery(body_of(document))

    assert len(events) == 1
    event = events[0]
    assert type(event) is event_type
    assert isinstance(event, MessageSent | MessageDelivered | MessageRead | MessageFailed)
    assert event.event_id == f"{item['id']}:{status}"
    assert event.provider_message_id == item["id"]
    assert event.account_id == PHONE_NUMBER_ID
    assert event.contact_id == CONTACT
    assert event.callback_data == item["biz_opaque_callback_data"]
    assert event.occurred_at == datetime.fromtimestamp(int(item["timestamp"]), tz=UTC)
    assert event.raw == item


def test_failed_status_carries_provider_errors() -> None:
    (event,) = parse_delivery(body_of(load("status_failed")))
    assert isinstance(event, MessageFailed)
    assert event.errors == (ProviderError(code=131047, title="Re-engagement message"),)


@pytest.mark.parametrize("status", ["deleted", "warning", "accepted"])
def test_unknown_status_is_explicitly_unsupported(status: str) -> None:
    document = load("status_read")
    item = first_value(document)["statuses"][0]
    item["status"] = status

    (event,) = parse_delivery(body_of(document))

    assert isinstance(event, UnsupportedEvent)
    assert event.reason == f"unsupported_status:{status}"
    assert event.event_id == f"{item['id']}:{status}"
    assert event.raw == item


def test_multiple_entries_and_changes_keep_every_item_in_order() -> None:
    document = load("delivery_multiple_entries_and_changes")
    expected_ids = []
    for entry in document["entry"]:
        for change in entry["changes"]:
            value = change["value"]
            expected_ids += [item["id"] for item in value.get("messages", [])]
            expected_ids += [f"{s['id']}:{s['status']}" for s in value.get("statuses", [])]

    events = parse_delivery(body_of(document))

    assert len(events) == 6
    assert [event.event_id for event in events] == expected_ids
    assert [type(event) for event in events] == [
        MessageReceived,
        MessageReceived,
        MessageDelivered,
        MessageRead,
        MessageReceived,
        MessageReceived,
    ]
    assert [event.contact_id for event in events[-2:]] == ["5511988887777"] * 2


def test_unsupported_field_is_one_explicit_event() -> None:
    document = load("field_template_status_update")
    change = document["entry"][0]["changes"][0]

    (event,) = parse_delivery(body_of(document))

    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "unsupported_field:message_template_status_update"
    assert event.event_id == unsupported_id(change)
    assert event.raw == change
    assert event.occurred_at == EPOCH
