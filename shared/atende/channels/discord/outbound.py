"""Build Discord follow-up message bodies (Execute Webhook shape), refusing anything over a
documented limit before a request exists, so a message Discord would reject is never sent.

Error messages name the limit and the offending length, never the content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from atende.domain.messages import (
    ButtonsMessage,
    ListMessage,
    MediaMessage,
    OutboundMessage,
    TemplateMessage,
    TextMessage,
)
from atende.errors import InvalidOutboundMessageError

#: Message `content`.
MAX_CONTENT = 2000
#: Buttons in one action row, and a button's label.
MAX_BUTTONS = 5
MAX_BUTTON_LABEL = 80
#: `custom_id` of any interactive component.
MAX_CUSTOM_ID = 100
#: String select: options, and an option's label, value and description; the placeholder.
MAX_SELECT_OPTIONS = 25
MAX_OPTION_LABEL = 100
MAX_OPTION_VALUE = 100
MAX_OPTION_DESCRIPTION = 100
MAX_PLACEHOLDER = 150

#: The custom_id of the select a ListMessage becomes; the chosen row comes back as its value.
LIST_CUSTOM_ID = "atende_list"

_ACTION_ROW = 1
_BUTTON = 2
_STRING_SELECT = 3
_SECONDARY = 2
# Snowflakes, and interaction tokens (URL-safe base64 with dots): nothing else may reach the
# URL path.
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{1,1000}")


def followup_url(api_base_url: str, application_id: str, token: str) -> str:
    """Create Followup Message: `POST /webhooks/{application.id}/{interaction.token}`."""
    if not _SNOWFLAKE.fullmatch(application_id):
        raise InvalidOutboundMessageError(
            "reply context application id is not a snowflake", code="invalid_reply_context"
        )
    if not _TOKEN.fullmatch(token):
        raise InvalidOutboundMessageError(
            "reply context token is not an interaction token", code="invalid_reply_context"
        )
    return f"{api_base_url.rstrip('/')}/webhooks/{application_id}/{token}"


def build_followup(message: OutboundMessage) -> dict[str, Any]:
    """The follow-up JSON body for `message`; raise if it breaks a limit or cannot be sent."""
    payload: dict[str, Any]
    if isinstance(message, TextMessage):
        payload = {"content": _content(message.body)}
    elif isinstance(message, ButtonsMessage):
        payload = {
            "content": _content(_framed(message.body, message.header, message.footer)),
            "components": [_button_row(message)],
        }
    elif isinstance(message, ListMessage):
        payload = {
            "content": _content(_framed(message.body, message.header, message.footer)),
            "components": [_select_row(message)],
        }
    elif isinstance(message, MediaMessage):
        payload = {"content": _content(_media_content(message))}
    elif isinstance(message, TemplateMessage):
        raise InvalidOutboundMessageError(
            "Discord has no message templates", code="unsupported_message_kind"
        )
    else:  # pragma: no cover - the union is exhaustive
        raise InvalidOutboundMessageError("unknown message kind", code="unsupported_message_kind")
    # Text may quote the contact or the AI: it must never ping @everyone, roles or users.
    payload["allowed_mentions"] = {"parse": []}
    return payload


def extract_message_id(response: Mapping[str, Any]) -> str | None:
    """The id of the message a follow-up created (Discord answers with the message object)."""
    message_id = response.get("id")
    return message_id if isinstance(message_id, str) and message_id else None


def _length(what: str, value: str, low: int, high: int) -> None:
    if not low <= len(value) <= high:
        raise InvalidOutboundMessageError(
            f"{what} must be {low}..{high} characters, got {len(value)}"
        )


def _unique(what: str, values: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise InvalidOutboundMessageError(f"{what} must be unique")
        seen.add(value)


def _content(text: str) -> str:
    _length("message content", text, 1, MAX_CONTENT)
    return text


def _framed(body: str, header: str | None, footer: str | None) -> str:
    """Discord messages have no header or footer: a bold first line and a subtext last one."""
    parts = [f"**{header}**"] if header else []
    parts.append(body)
    if footer:
        parts.append(f"-# {footer}")
    return "\n".join(parts)


def _media_content(message: MediaMessage) -> str:
    if message.media_id is not None or not message.link:
        # A provider media id belongs to another platform; Discord only shows links here.
        raise InvalidOutboundMessageError(
            "Discord media must be a link, not a media id", code="unsupported_media"
        )
    # Discord unfurls the link into a preview of the image, video or file.
    return f"{message.caption}\n{message.link}" if message.caption else message.link


def _button_row(message: ButtonsMessage) -> dict[str, Any]:
    if not 1 <= len(message.buttons) <= MAX_BUTTONS:
        raise InvalidOutboundMessageError(
            f"buttons must number 1..{MAX_BUTTONS}, got {len(message.buttons)}"
        )
    for button in message.buttons:
        _length("button label", button.title, 1, MAX_BUTTON_LABEL)
        _length("button custom_id", button.id, 1, MAX_CUSTOM_ID)
    # Discord refuses two components with the same custom_id on one message.
    _unique("button ids", (button.id for button in message.buttons))
    buttons = [
        # Secondary: Discord's guidance for a group of options of equal weight.
        {"type": _BUTTON, "style": _SECONDARY, "label": button.title, "custom_id": button.id}
        for button in message.buttons
    ]
    return {"type": _ACTION_ROW, "components": buttons}


def _select_row(message: ListMessage) -> dict[str, Any]:
    _length("select placeholder", message.button, 1, MAX_PLACEHOLDER)
    rows = [row for section in message.sections for row in section.rows]
    if not 1 <= len(rows) <= MAX_SELECT_OPTIONS:
        raise InvalidOutboundMessageError(
            f"list rows must number 1..{MAX_SELECT_OPTIONS} in total, got {len(rows)}"
        )
    options: list[dict[str, Any]] = []
    for row in rows:
        _length("select option label", row.title, 1, MAX_OPTION_LABEL)
        _length("select option value", row.id, 1, MAX_OPTION_VALUE)
        option = {"label": row.title, "value": row.id}
        if row.description:
            _length("select option description", row.description, 1, MAX_OPTION_DESCRIPTION)
            option["description"] = row.description
        options.append(option)
    _unique("list row ids", (row.id for row in rows))
    select = {
        "type": _STRING_SELECT,
        "custom_id": LIST_CUSTOM_ID,
        "placeholder": message.button,
        "options": options,
    }
    return {"type": _ACTION_ROW, "components": [select]}
