"""Bodies that are not what Discord documents: refused when not JSON, else kept, never lost."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atende.channels.discord import sample
from atende.channels.discord.parse import parse_delivery
from atende.domain.events import MessageReceived, UnsupportedEvent
from atende.errors import MalformedPayloadError

CONTACT = "53908232506183680"


def command(**changes: Any) -> dict[str, Any]:
    payload = sample.slash_command(CONTACT, "Oi", interaction_id="1300012345678901248")
    payload.update(changes)
    return payload


def parsed(payload: object) -> list[Any]:
    return parse_delivery(json.dumps(payload).encode())


def unsupported_reason(payload: object) -> str:
    (event,) = parsed(payload)
    assert isinstance(event, UnsupportedEvent)
    return event.reason


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"text"', b"null", b"1" * 5000, b"[" * 100000],
    ids=["empty", "text", "bad-utf8", "array", "string", "null", "huge-int", "deep-nesting"],
)
def test_a_body_that_is_not_a_json_object_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_delivery(body)


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"id": 1300012345678901248},
        {"id": "not-a-snowflake"},
        {"id": "9" * 30},
        {"application_id": None},
        {"token": ""},
        {"token": None},
    ],
    ids=["no-id", "numeric-id", "text-id", "huge-id", "no-application", "empty-token", "no-token"],
)
def test_an_interaction_without_its_identity_is_kept_as_malformed(changes: dict[str, Any]) -> None:
    payload = command(**changes)
    (event,) = parsed(payload)
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "malformed_interaction"
    assert event.event_id.startswith("unsupported:")
    # The same body twice is the same event (a Discord retry is deduplicated).
    assert parsed(payload)[0].event_id == event.event_id


def test_a_command_without_a_user_is_kept_not_answered() -> None:
    payload = command()
    del payload["member"]
    assert unsupported_reason(payload) == "missing_user"


@pytest.mark.parametrize(
    "data",
    [None, "x", [], {}, {"name": ""}, {"name": 5}],
    ids=["none", "string", "list", "empty", "empty-name", "numeric-name"],
)
def test_a_command_without_readable_data_is_kept(data: object) -> None:
    assert unsupported_reason(command(data=data)) == "malformed_item"


def test_a_component_without_a_custom_id_is_kept() -> None:
    payload = sample.button_click(CONTACT, "menu", "Menu", interaction_id="1300012345678901248")
    payload["data"] = {"component_type": 2}
    assert unsupported_reason(payload) == "malformed_item"


@pytest.mark.parametrize("kind", [None, "2", True, 2.0, 0, 6])
def test_an_unknown_or_garbled_interaction_type_is_kept(kind: object) -> None:
    reason = unsupported_reason(command(type=kind))
    assert reason.startswith("unsupported_interaction_type:")


def test_odd_option_values_are_skipped_not_fatal() -> None:
    data = {
        "name": "atendimento",
        "type": 1,
        "options": [
            "garbage",
            {"type": 3, "name": "a", "value": "  "},
            {"type": 3, "name": "b", "value": {"nested": True}},
            {"type": 10, "name": "c", "value": 2.5},
            {"type": 5, "name": "d", "value": True},
            {"type": 6, "name": "e", "value": "80985019868341869"},
            {"type": 1, "options": "not a list"},
        ],
    }
    (event,) = parsed(command(data=data))
    assert isinstance(event, MessageReceived)
    assert (event.text, event.choice_id) == ("2.5", "atendimento")


def test_a_command_with_no_options_has_no_text_but_names_the_command() -> None:
    (event,) = parsed(sample.slash_command(CONTACT, None, command="handoff"))
    assert isinstance(event, MessageReceived)
    assert (event.text, event.choice_id) == (None, "handoff")


@pytest.mark.parametrize(
    "payload",
    [
        {"version": 1, "application_id": "1234560123453231555", "type": 1},
        {"version": 1, "application_id": "1234560123453231555", "type": 1, "event": []},
        {"version": 1, "application_id": "1234560123453231555", "type": 1, "event": {"type": 7}},
    ],
    ids=["no-event", "event-not-object", "event-type-not-string"],
)
def test_a_webhook_event_without_a_readable_event_is_kept(payload: dict[str, Any]) -> None:
    assert unsupported_reason(payload) == "malformed_item"


def test_an_unknown_webhook_type_is_kept() -> None:
    payload = {"version": 1, "application_id": "1234560123453231555", "type": 2}
    assert unsupported_reason(payload) == "unsupported_webhook_type:2"


def test_a_webhook_event_with_a_garbled_timestamp_gets_a_fixed_time() -> None:
    payload = {
        "version": 1,
        "application_id": "1234560123453231555",
        "type": 1,
        "event": {"type": "APPLICATION_DEAUTHORIZED", "timestamp": "yesterday", "data": "x"},
    }
    (first,) = parsed(payload)
    (again,) = parsed(payload)
    assert first.occurred_at == again.occurred_at
    assert first.occurred_at.year == 1970
    assert first.contact_id is None


def test_an_empty_object_is_kept_as_an_unsupported_event() -> None:
    (event,) = parsed({})
    assert isinstance(event, UnsupportedEvent)
    assert event.account_id == ""
