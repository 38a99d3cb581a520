"""Discord's documented interactions and Webhook Events become internal events, raw kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from atende.channels.discord._common import REDACTED, snowflake_time
from atende.channels.discord.parse import parse_delivery
from atende.domain.events import MessageKind, MessageReceived, UnsupportedEvent

DATA = Path(__file__).resolve().parents[3] / "data" / "discord"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return document


def body(name: str) -> bytes:
    return (DATA / f"{name}.json").read_bytes()


def only_message(name: str) -> MessageReceived:
    events = parse_delivery(body(name))
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, MessageReceived)
    return event


# fixture, kind, text, choice_id, contact, reply_to
MESSAGE_CASES = [
    ("interaction_slash_command_guild", MessageKind.COMMAND, "The Gitrog Monster", "cardsearch",
     "53908232506183680", None),
    ("interaction_slash_command_dm", MessageKind.COMMAND, "Meu pedido está atrasado 48213",
     "atendimento", "53908232506183680", None),
    ("interaction_slash_subcommand", MessageKind.COMMAND, "Segunda via do boleto",
     "ticket abrir", "53908232506183680", None),
    ("interaction_user_command", MessageKind.COMMAND, None, "context-menu-user-2",
     "167348773423415296", None),
    ("interaction_button_click", MessageKind.INTERACTIVE, "Click me!", "click_one",
     "53908232506183680", "844397162624450620"),
    ("interaction_button_handoff", MessageKind.INTERACTIVE, "Falar com uma pessoa", "handoff",
     "53908232506183680", "1300300000000000000"),
    ("interaction_string_select", MessageKind.INTERACTIVE, "Mage, Rogue", "class_select_1",
     "53908232506183680", "847587334500646933"),
    ("interaction_modal_submit", MessageKind.INTERACTIVE, "John", "cool_modal",
     "53908232506183680", None),
    ("interaction_modal_submit_labels", MessageKind.INTERACTIVE,
     "Cobrança em dobro\nplano_familia", "game_feedback_modal", "53908232506183680", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fixture", "kind", "text", "choice_id", "contact", "reply_to"),
    MESSAGE_CASES,
    ids=[case[0] for case in MESSAGE_CASES],
)
def test_each_interaction_type_becomes_a_message(
    fixture: str,
    kind: MessageKind,
    text: str | None,
    choice_id: str,
    contact: str,
    reply_to: str | None,
) -> None:
    document = load(fixture)
    event = only_message(fixture)
    assert event.channel == "discord"
    assert (event.kind, event.text, event.choice_id) == (kind, text, choice_id)
    assert event.contact_id == contact
    assert event.reply_to == reply_to
    assert event.event_id == event.message_id == document["id"]
    assert event.account_id == document["application_id"]


def test_a_handoff_button_is_an_explicit_request_for_a_person() -> None:
    assert only_message("interaction_button_handoff").choice_id == "handoff"


def test_the_reply_context_carries_the_token_and_its_15_minute_expiry() -> None:
    document = load("interaction_slash_command_guild")
    event = only_message("interaction_slash_command_guild")
    created = snowflake_time(document["id"])
    assert created == datetime(2020, 12, 8, 23, 18, 4, 500000, tzinfo=UTC)
    assert event.occurred_at == created
    assert event.reply_context == {
        "application_id": "290926444748734465",
        "token": "A_UNIQUE_TOKEN",
        "expires_at": (created + timedelta(minutes=15)).isoformat(),
    }
    assert datetime.fromisoformat(event.reply_context["expires_at"]).tzinfo is not None


def test_the_raw_interaction_is_kept_without_its_token() -> None:
    document = load("interaction_slash_command_guild")
    event = only_message("interaction_slash_command_guild")
    assert event.raw == {**document, "token": REDACTED}
    assert "A_UNIQUE_TOKEN" not in json.dumps(event.raw)


def test_a_single_choice_from_a_select_is_the_choice_itself() -> None:
    # Our lists go out as one string select; the chosen row's id comes back as its value.
    document = load("interaction_string_select")
    document["data"]["values"] = ["priest"]
    (event,) = parse_delivery(json.dumps(document).encode())
    assert isinstance(event, MessageReceived)
    assert (event.choice_id, event.text) == ("priest", "Priest")


def test_a_button_not_found_in_the_message_falls_back_to_its_custom_id() -> None:
    document = load("interaction_button_click")
    del document["message"]
    (event,) = parse_delivery(json.dumps(document).encode())
    assert isinstance(event, MessageReceived)
    assert (event.text, event.choice_id, event.reply_to) == ("click_one", "click_one", None)


@pytest.mark.parametrize("fixture", ["interaction_ping", "webhook_event_ping"])
def test_pings_carry_no_events(fixture: str) -> None:
    assert parse_delivery(body(fixture)) == []


def test_autocomplete_is_kept_as_an_unsupported_event() -> None:
    (event,) = parse_delivery(body("interaction_autocomplete"))
    assert isinstance(event, UnsupportedEvent)
    assert (event.reason, event.event_id) == ("autocomplete", "1300512345678901253")
    assert event.contact_id == "53908232506183680"
    assert event.raw["token"] == REDACTED


def test_an_unknown_interaction_type_is_kept_not_dropped() -> None:
    document = load("interaction_unknown_type")
    (event,) = parse_delivery(body("interaction_unknown_type"))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "unsupported_interaction_type:42"
    assert event.event_id == document["id"]
    assert event.account_id == document["application_id"]
    assert event.raw["data"] == document["data"]


@pytest.mark.parametrize(
    ("fixture", "reason", "contact"),
    [
        ("webhook_event_application_authorized", "webhook_event:APPLICATION_AUTHORIZED",
         "53908232506183680"),
        ("webhook_event_entitlement_create", "webhook_event:ENTITLEMENT_CREATE",
         "111178765189277770"),
    ],
)  # fmt: skip
def test_webhook_events_are_kept_and_audited(fixture: str, reason: str, contact: str) -> None:
    document = load(fixture)
    (event,) = parse_delivery(body(fixture))
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == reason
    assert event.account_id == "1234560123453231555"
    assert event.contact_id == contact
    assert event.occurred_at.tzinfo is not None
    assert event.occurred_at.replace(tzinfo=None) == datetime.fromisoformat(
        document["event"]["timestamp"]
    )
    assert event.raw == document


def test_a_retried_webhook_event_keeps_its_id_and_another_event_does_not_share_it() -> None:
    first = parse_delivery(body("webhook_event_entitlement_create"))[0].event_id
    reformatted = json.dumps(load("webhook_event_entitlement_create"), indent=4).encode()
    assert parse_delivery(reformatted)[0].event_id == first
    assert parse_delivery(body("webhook_event_application_authorized"))[0].event_id != first
