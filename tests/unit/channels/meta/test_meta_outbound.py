"""Send API payloads: the documented shapes, and every documented limit refused before sending."""

from __future__ import annotations

import re

import pytest

from atende.channels.meta.outbound import (
    SendLimits,
    build_comment_reply,
    build_message,
    comment_replies_url,
    extract_message_id,
    messages_url,
)
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
from atende.errors import InvalidOutboundMessageError

TO = "6543210987654321"
MESSENGER = SendLimits(text_chars=2000)
INSTAGRAM = SendLimits(text_chars=1000, text_bytes=1000)


def buttons(n: int, title: str = "Opção", **kw: object) -> ButtonsMessage:
    return ButtonsMessage(
        body="Escolha:",
        buttons=tuple(Button(id=f"opt_{i}", title=f"{title} {i}"[:20]) for i in range(n)),
        **kw,  # type: ignore[arg-type]
    )


def test_text_is_a_response_to_the_recipient() -> None:
    assert build_message(TextMessage(body="Olá"), TO, MESSENGER) == {
        "recipient": {"id": TO},
        "messaging_type": "RESPONSE",
        "message": {"text": "Olá"},
    }


def test_urls_are_the_account_messages_and_comment_replies_edges() -> None:
    base = "https://graph.facebook.com/v23.0/"
    assert messages_url(base, "108746935218864") == (
        "https://graph.facebook.com/v23.0/108746935218864/messages"
    )
    assert comment_replies_url(base, "17865799348089039") == (
        "https://graph.facebook.com/v23.0/17865799348089039/replies"
    )


@pytest.mark.parametrize("bad", ["", "../me", "123/messages", "abc", "１２３"])
def test_ids_that_could_change_the_path_are_refused(bad: str) -> None:
    with pytest.raises(InvalidOutboundMessageError):
        messages_url("https://graph.facebook.com/v23.0", bad)
    with pytest.raises(InvalidOutboundMessageError):
        comment_replies_url("https://graph.facebook.com/v23.0", bad)
    with pytest.raises(InvalidOutboundMessageError):
        build_message(TextMessage(body="x"), bad, MESSENGER)


def test_text_limits_are_characters_and_for_instagram_also_bytes() -> None:
    assert build_message(TextMessage(body="a" * 2000), TO, MESSENGER)["message"]["text"]
    with pytest.raises(InvalidOutboundMessageError, match=re.escape("1..2000")):
        build_message(TextMessage(body="a" * 2001), TO, MESSENGER)
    with pytest.raises(InvalidOutboundMessageError):
        build_message(TextMessage(body=""), TO, MESSENGER)
    assert build_message(TextMessage(body="a" * 1000), TO, INSTAGRAM)
    with pytest.raises(InvalidOutboundMessageError, match=re.escape("1..1000")):
        build_message(TextMessage(body="a" * 1001), TO, INSTAGRAM)
    # 600 "ç" are 600 characters but 1200 UTF-8 bytes.
    with pytest.raises(InvalidOutboundMessageError, match="1000 UTF-8 bytes"):
        build_message(TextMessage(body="ç" * 600), TO, INSTAGRAM)


def test_the_limit_error_never_echoes_the_text() -> None:
    with pytest.raises(InvalidOutboundMessageError) as caught:
        build_message(TextMessage(body="segredo " * 300), TO, MESSENGER)
    assert "segredo" not in str(caught.value)


@pytest.mark.parametrize(
    ("media_type", "attachment_type"),
    [("image", "image"), ("audio", "audio"), ("video", "video"), ("document", "file")],
)
def test_media_by_url_is_an_attachment(media_type: str, attachment_type: str) -> None:
    message = MediaMessage(media_type=media_type, link="https://cdn.example.com/f")  # type: ignore[arg-type]
    assert build_message(message, TO, MESSENGER)["message"] == {
        "attachment": {"type": attachment_type, "payload": {"url": "https://cdn.example.com/f"}}
    }


def test_media_by_reusable_attachment_id() -> None:
    message = MediaMessage(media_type="image", media_id="1857777774821032")
    assert build_message(message, TO, MESSENGER)["message"]["attachment"] == {
        "type": "image",
        "payload": {"attachment_id": "1857777774821032"},
    }


@pytest.mark.parametrize(
    "message",
    [
        MediaMessage(media_type="sticker", link="https://cdn.example.com/s.webp"),
        MediaMessage(media_type="image", link="https://cdn.example.com/i.png", caption="Boleto"),
        MediaMessage(media_type="document", link="https://cdn.example.com/b.pdf", filename="b.pdf"),
        MediaMessage(media_type="image"),
        MediaMessage(media_type="image", link="https://x/y", media_id="1"),
        MediaMessage(media_type="image", link="ftp://cdn.example.com/i.png"),
        MediaMessage(media_type="image", media_id="../x"),
        TemplateMessage(name="appointment_reminder", language="pt_BR"),
    ],
    ids=["sticker", "caption", "filename", "neither", "both", "not-http", "bad-id", "template"],
)
def test_what_the_send_api_cannot_carry_is_refused(message: object) -> None:
    with pytest.raises(InvalidOutboundMessageError):
        build_message(message, TO, MESSENGER)  # type: ignore[arg-type]


def test_buttons_become_text_quick_replies_with_header_and_footer_in_the_text() -> None:
    message = ButtonsMessage(
        body="Como posso ajudar?",
        header="Loja Exemplo",
        footer="Atendimento 9h-18h",
        buttons=(Button(id="billing", title="Boletos"), Button(id="handoff", title="Atendente")),
    )
    assert build_message(message, TO, MESSENGER)["message"] == {
        "text": "Loja Exemplo\n\nComo posso ajudar?\n\nAtendimento 9h-18h",
        "quick_replies": [
            {"content_type": "text", "title": "Boletos", "payload": "billing"},
            {"content_type": "text", "title": "Atendente", "payload": "handoff"},
        ],
    }


def test_quick_reply_limits() -> None:
    assert len(build_message(buttons(13), TO, MESSENGER)["message"]["quick_replies"]) == 13
    with pytest.raises(InvalidOutboundMessageError, match=re.escape("1..13")):
        build_message(buttons(14), TO, MESSENGER)
    with pytest.raises(InvalidOutboundMessageError, match=re.escape("1..13")):
        build_message(ButtonsMessage(body="x", buttons=()), TO, MESSENGER)
    too_long = ButtonsMessage(body="x", buttons=(Button(id="a", title="t" * 21),))
    with pytest.raises(InvalidOutboundMessageError, match=re.escape("title must be 1..20")):
        build_message(too_long, TO, MESSENGER)
    big_payload = ButtonsMessage(body="x", buttons=(Button(id="p" * 1001, title="ok"),))
    with pytest.raises(InvalidOutboundMessageError, match=re.escape("payload must be 1..1000")):
        build_message(big_payload, TO, MESSENGER)
    twice = ButtonsMessage(body="x", buttons=(Button(id="a", title="1"), Button(id="a", title="2")))
    with pytest.raises(InvalidOutboundMessageError, match="unique"):
        build_message(twice, TO, MESSENGER)
    long_body = ButtonsMessage(body="b" * 1001, buttons=(Button(id="a", title="1"),))
    with pytest.raises(InvalidOutboundMessageError):
        build_message(long_body, TO, INSTAGRAM)


def test_a_list_becomes_quick_replies_of_its_rows() -> None:
    message = ListMessage(
        body="Escolha um assunto",
        button="Assuntos",
        sections=(
            ListSection(title="Financeiro", rows=(ListRow(id="boleto", title="2ª via"),)),
            ListSection(
                title="Pedidos",
                rows=(ListRow(id="track", title="Rastrear", description="Onde está?"),),
            ),
        ),
    )
    assert build_message(message, TO, INSTAGRAM)["message"] == {
        "text": "Escolha um assunto",
        "quick_replies": [
            {"content_type": "text", "title": "2ª via", "payload": "boleto"},
            {"content_type": "text", "title": "Rastrear", "payload": "track"},
        ],
    }


def test_a_comment_reply_is_text_only_and_bounded() -> None:
    assert build_comment_reply(TextMessage(body="Te chamamos no direct!"), 2200) == {
        "message": "Te chamamos no direct!"
    }
    with pytest.raises(InvalidOutboundMessageError):
        build_comment_reply(TextMessage(body="a" * 2201), 2200)
    with pytest.raises(InvalidOutboundMessageError):
        build_comment_reply(MediaMessage(media_type="image", link="https://x/y.png"), 2200)


def test_the_message_id_is_message_id_or_a_comment_id() -> None:
    assert extract_message_id({"recipient_id": TO, "message_id": "m_AG5Hz2"}) == "m_AG5Hz2"
    assert extract_message_id({"id": "17873440459141021"}) == "17873440459141021"
    assert extract_message_id({"message_id": ""}) is None
    assert extract_message_id({"recipient_id": TO}) is None
