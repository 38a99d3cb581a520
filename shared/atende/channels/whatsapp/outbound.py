"""Build WhatsApp Cloud API /messages payloads, refusing anything over a documented limit.

Limits are checked before a payload exists, so a message Meta would reject is never sent (and
never retried). Error messages name the limit and the offending length, never the content.
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

MAX_TEXT_BODY = 4096
MAX_CAPTION = 1024
MAX_INTERACTIVE_BODY = 1024
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_BUTTON = 20
MAX_SECTIONS = 10
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_SECTION_TITLE = 24
MAX_TEMPLATE_NAME = 512
MAX_CALLBACK_DATA = 512

_TEMPLATE_NAME = re.compile(r"[a-z0-9_]+")
# Meta accepts no caption on these media types.
_NO_CAPTION = frozenset({"audio", "sticker"})


def messages_url(api_base_url: str, phone_number_id: str) -> str:
    """The Graph API endpoint that sends messages from one business phone number."""
    return f"{api_base_url.rstrip('/')}/{phone_number_id}/messages"


def build_payload(
    message: OutboundMessage, recipient: str, callback_data: str | None = None
) -> dict[str, Any]:
    """The /messages JSON body for `message` to the wa_id `recipient`; raise if over a limit."""
    if not (recipient.isascii() and recipient.isdigit()):
        raise InvalidOutboundMessageError("recipient must be a non-empty wa_id of digits")
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient,
    }
    if isinstance(message, TextMessage):
        _length("text body", message.body, 1, MAX_TEXT_BODY)
        payload["type"] = "text"
        payload["text"] = {"body": message.body, "preview_url": message.preview_url}
    elif isinstance(message, MediaMessage):
        payload["type"] = message.media_type
        payload[message.media_type] = _media(message)
    elif isinstance(message, TemplateMessage):
        payload["type"] = "template"
        payload["template"] = _template(message)
    elif isinstance(message, ButtonsMessage):
        payload["type"] = "interactive"
        payload["interactive"] = _buttons(message)
    else:
        payload["type"] = "interactive"
        payload["interactive"] = _list(message)
    if callback_data is not None:
        # Comes back on every status webhook, so a status finds its outbox record.
        _length("biz_opaque_callback_data", callback_data, 1, MAX_CALLBACK_DATA)
        payload["biz_opaque_callback_data"] = callback_data
    return payload


def extract_message_id(response: Mapping[str, Any]) -> str | None:
    """The wamid of a sent message from a /messages response, if the response has one."""
    messages = response.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], Mapping):
        message_id = messages[0].get("id")
        if isinstance(message_id, str) and message_id:
            return message_id
    return None


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


def _media(message: MediaMessage) -> dict[str, Any]:
    if (message.link is None) == (message.media_id is None):
        raise InvalidOutboundMessageError("media needs exactly one of link and media_id")
    key, reference = (
        ("link", message.link) if message.link is not None else ("id", message.media_id)
    )
    if not reference:
        raise InvalidOutboundMessageError("media link or media_id must be non-empty")
    media: dict[str, Any] = {key: reference}
    if message.caption is not None:
        if message.media_type in _NO_CAPTION:
            raise InvalidOutboundMessageError(f"{message.media_type} media takes no caption")
        _length("media caption", message.caption, 0, MAX_CAPTION)
        media["caption"] = message.caption
    if message.filename is not None:
        if message.media_type != "document":
            raise InvalidOutboundMessageError("filename is only allowed on document media")
        media["filename"] = message.filename
    return media


def _template(message: TemplateMessage) -> dict[str, Any]:
    if len(message.name) > MAX_TEMPLATE_NAME or not _TEMPLATE_NAME.fullmatch(message.name):
        raise InvalidOutboundMessageError(
            f"template name must be 1..{MAX_TEMPLATE_NAME} characters of [a-z0-9_]"
        )
    if not message.language:
        raise InvalidOutboundMessageError("template language code must be non-empty")
    return {
        "name": message.name,
        "language": {"code": message.language},
        "components": [dict(component) for component in message.components],
    }


def _interactive(
    kind: str, body: str, header: str | None, footer: str | None, action: dict[str, Any]
) -> dict[str, Any]:
    _length("interactive body", body, 1, MAX_INTERACTIVE_BODY)
    interactive: dict[str, Any] = {"type": kind}
    if header is not None:
        _length("interactive header text", header, 1, MAX_HEADER_TEXT)
        interactive["header"] = {"type": "text", "text": header}
    interactive["body"] = {"text": body}
    if footer is not None:
        _length("interactive footer", footer, 1, MAX_FOOTER_TEXT)
        interactive["footer"] = {"text": footer}
    interactive["action"] = action
    return interactive


def _buttons(message: ButtonsMessage) -> dict[str, Any]:
    if not 1 <= len(message.buttons) <= MAX_BUTTONS:
        raise InvalidOutboundMessageError(
            f"reply buttons must number 1..{MAX_BUTTONS}, got {len(message.buttons)}"
        )
    for button in message.buttons:
        _length("button title", button.title, 1, MAX_BUTTON_TITLE)
        _length("button id", button.id, 1, MAX_BUTTON_ID)
    _unique("button ids", (button.id for button in message.buttons))
    # Meta also rejects two buttons with the same title.
    _unique("button titles", (button.title for button in message.buttons))
    buttons = [
        {"type": "reply", "reply": {"id": button.id, "title": button.title}}
        for button in message.buttons
    ]
    return _interactive(
        "button", message.body, message.header, message.footer, {"buttons": buttons}
    )


def _list(message: ListMessage) -> dict[str, Any]:
    _length("list button label", message.button, 1, MAX_LIST_BUTTON)
    if not 1 <= len(message.sections) <= MAX_SECTIONS:
        raise InvalidOutboundMessageError(
            f"list sections must number 1..{MAX_SECTIONS}, got {len(message.sections)}"
        )
    rows = [row for section in message.sections for row in section.rows]
    if not 1 <= len(rows) <= MAX_ROWS:
        raise InvalidOutboundMessageError(
            f"list rows must number 1..{MAX_ROWS} in total, got {len(rows)}"
        )
    sections: list[dict[str, Any]] = []
    for section in message.sections:
        if not section.rows:
            raise InvalidOutboundMessageError("every list section needs at least one row")
        out: dict[str, Any] = {}
        if section.title is not None:
            _length("list section title", section.title, 1, MAX_SECTION_TITLE)
            out["title"] = section.title
        elif len(message.sections) > 1:
            raise InvalidOutboundMessageError("list section title is required with 2+ sections")
        out["rows"] = []
        for row in section.rows:
            _length("list row title", row.title, 1, MAX_ROW_TITLE)
            _length("list row id", row.id, 1, MAX_ROW_ID)
            item = {"id": row.id, "title": row.title}
            if row.description is not None:
                _length("list row description", row.description, 0, MAX_ROW_DESCRIPTION)
                item["description"] = row.description
            out["rows"].append(item)
        sections.append(out)
    _unique("list row ids", (row.id for row in rows))
    action = {"button": message.button, "sections": sections}
    return _interactive("list", message.body, message.header, message.footer, action)
