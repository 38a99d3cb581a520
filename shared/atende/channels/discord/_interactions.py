"""Maps one Discord interaction to internal events: application commands, message components
and modal submits become `MessageReceived`; a PING becomes nothing (the endpoint answers it);
autocomplete, unknown types and shapes we cannot read become `UnsupportedEvent`.

The interaction's token, with the application id and the time the token stops working, goes
into `reply_context`: Discord answers an interaction, not a person, so the reply needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from enum import IntEnum
from typing import Any, NamedTuple

from atende.channels.discord._common import (
    CHANNEL,
    MALFORMED,
    ident,
    integer,
    items,
    obj,
    snowflake_time,
    string,
    unsupported,
    without_token,
)
from atende.domain.events import InboundEvent, MessageKind, MessageReceived

#: Interaction tokens answer for this long after the interaction was created.
TOKEN_LIFETIME = timedelta(minutes=15)


class InteractionType(IntEnum):
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    APPLICATION_COMMAND_AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class _OptionType(IntEnum):
    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    NUMBER = 10


class _ComponentType(IntEnum):
    BUTTON = 2
    STRING_SELECT = 3


_GROUPING_OPTIONS = frozenset({_OptionType.SUB_COMMAND, _OptionType.SUB_COMMAND_GROUP})
# Option values that read as words the contact typed; ids (user, role, channel) and booleans
# do not.
_TEXT_OPTIONS = frozenset({_OptionType.STRING, _OptionType.INTEGER, _OptionType.NUMBER})


class _Content(NamedTuple):
    kind: MessageKind
    text: str | None
    choice_id: str | None
    reply_to: str | None = None


def interaction_type(payload: dict[str, Any]) -> int | None:
    return integer(payload.get("type"))


def contact_of(payload: dict[str, Any]) -> str | None:
    """The invoking user: `member.user` in a server, `user` in a DM."""
    member_user = obj(obj(payload.get("member")).get("user"))
    return ident(member_user.get("id")) or ident(obj(payload.get("user")).get("id"))


def interaction_events(payload: dict[str, Any]) -> list[InboundEvent]:
    """The events of one (verified) interaction; [] for a PING."""
    kind = interaction_type(payload)
    if kind == InteractionType.PING:
        return []
    interaction_id = ident(payload.get("id"))
    occurred_at = snowflake_time(interaction_id)
    application_id = ident(payload.get("application_id")) or ""
    token = ident(payload.get("token"))
    contact_id = contact_of(payload)
    if interaction_id is None or occurred_at is None or not application_id or token is None:
        return [unsupported(payload, "malformed_interaction", application_id)]

    def keep(reason: str) -> list[InboundEvent]:
        return [
            unsupported(
                payload,
                reason,
                application_id,
                event_id=interaction_id,
                contact_id=contact_id,
                occurred_at=occurred_at,
            )
        ]

    if kind == InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE:
        # Answered at the edge with no suggestions; kept so it is audited, not guessed at.
        return keep("autocomplete")
    if kind not in (
        InteractionType.APPLICATION_COMMAND,
        InteractionType.MESSAGE_COMPONENT,
        InteractionType.MODAL_SUBMIT,
    ):
        return keep(f"unsupported_interaction_type:{kind}")
    if contact_id is None:
        return keep("missing_user")
    content = _content(kind, payload)
    if content is None:
        return keep(MALFORMED)
    token_expires_at = occurred_at + TOKEN_LIFETIME
    return [
        MessageReceived(
            channel=CHANNEL,
            event_id=interaction_id,
            account_id=application_id,
            contact_id=contact_id,
            occurred_at=occurred_at,
            raw=without_token(payload),
            message_id=interaction_id,
            kind=content.kind,
            text=content.text,
            choice_id=content.choice_id,
            reply_to=content.reply_to,
            reply_context={
                "application_id": application_id,
                "token": token,
                "expires_at": token_expires_at.isoformat(),
            },
        )
    ]


def _content(kind: int, payload: dict[str, Any]) -> _Content | None:
    data = payload.get("data")
    if not isinstance(data, dict):
        return None
    if kind == InteractionType.APPLICATION_COMMAND:
        return _command(data)
    if kind == InteractionType.MESSAGE_COMPONENT:
        return _component(data, obj(payload.get("message")))
    return _modal(data)


def _command(data: dict[str, Any]) -> _Content | None:
    name = ident(data.get("name"))
    if name is None:
        return None
    path: list[str] = [name]
    words: list[str] = []
    _walk_options(data.get("options"), path, words)
    # "ticket open" for a subcommand, as Discord itself names an invoked command.
    return _Content(MessageKind.COMMAND, text=" ".join(words) or None, choice_id=" ".join(path))


def _walk_options(options: object, path: list[str], words: list[str]) -> None:
    for item in items(options):
        option = obj(item)
        option_type = integer(option.get("type"))
        if option_type in _GROUPING_OPTIONS:
            name = ident(option.get("name"))
            if name is not None:
                path.append(name)
            _walk_options(option.get("options"), path, words)
        elif option_type in _TEXT_OPTIONS:
            value = option.get("value")
            if isinstance(value, bool):
                continue
            if isinstance(value, str | int | float):
                word = str(value).strip()
                if word:
                    words.append(word)


def _component(data: dict[str, Any], message: dict[str, Any]) -> _Content | None:
    custom_id = ident(data.get("custom_id"))
    if custom_id is None:
        return None
    reply_to = ident(message.get("id"))
    shown = _find_component(message.get("components"), custom_id)
    if integer(data.get("component_type")) == _ComponentType.STRING_SELECT:
        values = [value for value in items(data.get("values")) if isinstance(value, str)]
        labels = _option_labels(shown, values)
        # One chosen option is the choice itself (our list rows' ids), like a WhatsApp row.
        choice_id = values[0] if len(values) == 1 and values[0] else custom_id
        text = ", ".join(labels or values) or custom_id
        return _Content(MessageKind.INTERACTIVE, text, choice_id, reply_to)
    # A button (or a user/role/channel select): the label the contact saw, else its id.
    label = string(shown.get("label")) if shown else None
    return _Content(MessageKind.INTERACTIVE, label or custom_id, custom_id, reply_to)


def _modal(data: dict[str, Any]) -> _Content | None:
    custom_id = ident(data.get("custom_id"))
    if custom_id is None:
        return None
    values = [value.strip() for value in _submitted_values(data.get("components"))]
    text = "\n".join(value for value in values if value) or None
    return _Content(MessageKind.INTERACTIVE, text, custom_id)


def _children(component: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Nested components: action rows and containers hold `components`, a label holds one
    `component`, a section an `accessory`."""
    for child in items(component.get("components")):
        if isinstance(child, dict):
            yield child
    for key in ("component", "accessory"):
        child = component.get(key)
        if isinstance(child, dict):
            yield child


def _submitted_values(components: object) -> Iterator[str]:
    """Every text input value and selected option of a modal, in the order shown."""
    for component in items(components):
        if not isinstance(component, dict):
            continue
        value = component.get("value")
        if isinstance(value, str):
            yield value
        for selected in items(component.get("values")):
            if isinstance(selected, str):
                yield selected
        yield from _submitted_values(list(_children(component)))


def _find_component(components: object, custom_id: str) -> dict[str, Any] | None:
    for component in items(components):
        if not isinstance(component, dict):
            continue
        if component.get("custom_id") == custom_id:
            return component
        found = _find_component(list(_children(component)), custom_id)
        if found is not None:
            return found
    return None


def _option_labels(select: dict[str, Any] | None, values: list[str]) -> list[str]:
    if not select:
        return []
    labels = {
        option.get("value"): option.get("label")
        for option in items(select.get("options"))
        if isinstance(option, dict)
    }
    found = [labels.get(value) for value in values]
    return [label for label in found if isinstance(label, str)] if all(found) else []
