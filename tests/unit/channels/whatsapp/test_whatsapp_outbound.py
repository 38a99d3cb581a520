"""Outbound payloads match the Graph API /messages shape."""

from __future__ import annotations

from typing import Any

import pytest

from atende.channels.whatsapp.outbound import build_payload, extract_message_id, messages_url
from atende.domain.messages import (
    Button,
    ButtonsMessage,
    ListMessage,
    ListRow,
    ListSection,
    MediaMessage,
    TemplateMessage,
    TextMessage,
)

TO = "5511999990000"


def test_text_payload() -> None:
    assert build_payload(TextMessage(body="Olá", preview_url=True), TO, callback_data="ob-1") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": "text",
        "text": {"body": "Olá", "preview_url": True},
        "biz_opaque_callback_data": "ob-1",
    }


def test_media_payloads() -> None:
    document = MediaMessage(
        media_type="document", media_id="755862179952139", caption="Boleto", filename="boleto.pdf"
    )
    assert build_payload(document, TO)["document"] == {
        "id": "755862179952139",
        "caption": "Boleto",
        "filename": "boleto.pdf",
    }
    audio = build_payload(
        MediaMessage(media_type="audio", link="https://cdn.example.com/a.ogg"), TO
    )
    assert audio["type"] == "audio"
    assert audio["audio"] == {"link": "https://cdn.example.com/a.ogg"}


def test_template_payload() -> None:
    component = {"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}
    payload = build_payload(
        TemplateMessage(name="appointment_reminder", language="pt_BR", components=(component,)), TO
    )
    assert payload["type"] == "template"
    assert payload["template"] == {
        "name": "appointment_reminder",
        "language": {"code": "pt_BR"},
        "components": [component],
    }


def test_buttons_payload() -> None:
    message = ButtonsMessage(
        body="Deseja continuar?",
        header="Atendimento",
        footer="Responda com um toque",
        buttons=(Button(id="yes", title="Sim"), Button(id="no", title="Não")),
    )
    assert build_payload(message, TO)["interactive"] == {
        "type": "button",
        "header": {"type": "text", "text": "Atendimento"},
        "body": {"text": "Deseja continuar?"},
        "footer": {"text": "Responda com um toque"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Sim"}},
                {"type": "reply", "reply": {"id": "no", "title": "Não"}},
            ]
        },
    }


def test_list_payload() -> None:
    message = ListMessage(
        body="Escolha um assunto",
        button="Assuntos",
        sections=(
            ListSection(
                title="Financeiro", rows=(ListRow(id="boleto", title="2ª via", description="PDF"),)
            ),
            ListSection(title="Suporte", rows=(ListRow(id="agent", title="Atendente"),)),
        ),
    )
    payload = build_payload(message, TO)
    assert payload["type"] == "interactive"
    assert payload["interactive"] == {
        "type": "list",
        "body": {"text": "Escolha um assunto"},
        "action": {
            "button": "Assuntos",
            "sections": [
                {
                    "title": "Financeiro",
                    "rows": [{"id": "boleto", "title": "2ª via", "description": "PDF"}],
                },
                {"title": "Suporte", "rows": [{"id": "agent", "title": "Atendente"}]},
            ],
        },
    }


@pytest.mark.parametrize(
    "base", ["https://graph.facebook.com/v23.0", "https://graph.facebook.com/v23.0/"]
)
def test_messages_url(base: str) -> None:
    assert messages_url(base, "106540352242922") == (
        "https://graph.facebook.com/v23.0/106540352242922/messages"
    )


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"messaging_product": "whatsapp", "messages": [{"id": "wamid.A"}]}, "wamid.A"),
        ({"messages": []}, None),
        ({"messages": [{}]}, None),
        ({"messages": [{"id": 3}]}, None),
        ({"messages": "wamid.A"}, None),
        ({}, None),
    ],
)
def test_extract_message_id(response: dict[str, Any], expected: str | None) -> None:
    assert extract_message_id(response) == expected
