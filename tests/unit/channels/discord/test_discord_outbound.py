"""Follow-up bodies match Discord's Execute Webhook shape, and its limits are enforced."""

from __future__ import annotations

import pytest

from atende.channels.discord.outbound import (
    LIST_CUSTOM_ID,
    MAX_CONTENT,
    build_followup,
    extract_message_id,
    followup_url,
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

NO_MENTIONS = {"parse": []}


def test_text_followup() -> None:
    assert build_followup(TextMessage(body="Olá! Como posso ajudar?")) == {
        "content": "Olá! Como posso ajudar?",
        "allowed_mentions": NO_MENTIONS,
    }


def test_a_reply_can_never_ping_everyone() -> None:
    payload = build_followup(TextMessage(body="@everyone promoção!"))
    assert payload["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize(
    ("length", "ok"), [(MAX_CONTENT, True), (MAX_CONTENT + 1, False), (0, False)]
)
def test_content_is_limited_to_2000_characters(length: int, ok: bool) -> None:
    message = TextMessage(body="a" * length)
    if ok:
        assert len(build_followup(message)["content"]) == 2000
    else:
        with pytest.raises(InvalidOutboundMessageError, match="message content"):
            build_followup(message)


def buttons(count: int, label: str = "Opção", **extra: str) -> ButtonsMessage:
    return ButtonsMessage(
        body="Como podemos ajudar?",
        buttons=tuple(Button(id=f"b{i}", title=f"{label} {i}") for i in range(count)),
        **extra,
    )


def test_buttons_become_one_action_row() -> None:
    message = ButtonsMessage(
        body="Como podemos ajudar?",
        header="Atendimento",
        footer="Toque uma opção",
        buttons=(Button(id="boleto", title="Segunda via"), Button(id="handoff", title="Pessoa")),
    )
    assert build_followup(message) == {
        "content": "**Atendimento**\nComo podemos ajudar?\n-# Toque uma opção",
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": "Segunda via", "custom_id": "boleto"},
                    {"type": 2, "style": 2, "label": "Pessoa", "custom_id": "handoff"},
                ],
            }
        ],
        "allowed_mentions": NO_MENTIONS,
    }


def test_up_to_five_buttons_fit_a_row_and_six_do_not() -> None:
    assert len(build_followup(buttons(5))["components"][0]["components"]) == 5
    with pytest.raises(InvalidOutboundMessageError, match=r"1\.\.5"):
        build_followup(buttons(6))
    with pytest.raises(InvalidOutboundMessageError):
        build_followup(buttons(0))


def test_button_labels_are_limited_to_80_characters() -> None:
    ok = ButtonsMessage(body="?", buttons=(Button(id="a", title="x" * 80),))
    assert build_followup(ok)["components"][0]["components"][0]["label"] == "x" * 80
    with pytest.raises(InvalidOutboundMessageError, match="button label"):
        build_followup(ButtonsMessage(body="?", buttons=(Button(id="a", title="x" * 81),)))


def test_button_ids_are_limited_and_unique() -> None:
    with pytest.raises(InvalidOutboundMessageError, match="custom_id"):
        build_followup(ButtonsMessage(body="?", buttons=(Button(id="i" * 101, title="A"),)))
    twins = (Button(id="same", title="A"), Button(id="same", title="B"))
    with pytest.raises(InvalidOutboundMessageError, match="unique"):
        build_followup(ButtonsMessage(body="?", buttons=twins))


def test_a_long_header_counts_against_the_content_limit() -> None:
    message = ButtonsMessage(body="b" * 1990, header="h" * 20, buttons=(Button(id="a", title="A"),))
    with pytest.raises(InvalidOutboundMessageError, match="message content"):
        build_followup(message)


def test_a_list_becomes_a_string_select_whose_values_are_the_row_ids() -> None:
    message = ListMessage(
        body="Escolha o assunto",
        button="Assuntos",
        sections=(
            ListSection(title="Financeiro", rows=(ListRow(id="boleto", title="Boleto",
                                                          description="Segunda via"),)),
            ListSection(title="Outros", rows=(ListRow(id="handoff", title="Falar com pessoa"),)),
        ),
    )  # fmt: skip
    payload = build_followup(message)
    assert payload["content"] == "Escolha o assunto"
    assert payload["components"] == [
        {
            "type": 1,
            "components": [
                {
                    "type": 3,
                    "custom_id": LIST_CUSTOM_ID,
                    "placeholder": "Assuntos",
                    "options": [
                        {"label": "Boleto", "value": "boleto", "description": "Segunda via"},
                        {"label": "Falar com pessoa", "value": "handoff"},
                    ],
                }
            ],
        }
    ]


def list_of(rows: int, title: str = "Row", description: str | None = None) -> ListMessage:
    return ListMessage(
        body="?",
        button="Abrir",
        sections=(
            ListSection(
                rows=tuple(
                    ListRow(id=f"r{i}", title=f"{title}{i}", description=description)
                    for i in range(rows)
                )
            ),
        ),
    )


def test_select_limits() -> None:
    assert len(build_followup(list_of(25))["components"][0]["components"][0]["options"]) == 25
    with pytest.raises(InvalidOutboundMessageError, match=r"1\.\.25"):
        build_followup(list_of(26))
    with pytest.raises(InvalidOutboundMessageError, match="option label"):
        build_followup(list_of(1, title="x" * 100))
    with pytest.raises(InvalidOutboundMessageError, match="description"):
        build_followup(list_of(1, description="d" * 101))
    with pytest.raises(InvalidOutboundMessageError, match="placeholder"):
        build_followup(list_of(1).model_copy(update={"button": "p" * 151}))


def test_media_goes_out_as_a_link_discord_previews() -> None:
    image = MediaMessage(media_type="image", link="https://cdn.example.com/a.png", caption="Mapa")
    assert build_followup(image)["content"] == "Mapa\nhttps://cdn.example.com/a.png"
    document = MediaMessage(media_type="document", link="https://cdn.example.com/b.pdf")
    assert build_followup(document)["content"] == "https://cdn.example.com/b.pdf"


def test_media_by_provider_id_and_templates_cannot_be_sent() -> None:
    with pytest.raises(InvalidOutboundMessageError) as caught:
        build_followup(MediaMessage(media_type="image", media_id="755862179952139"))
    assert caught.value.code == "unsupported_media"
    with pytest.raises(InvalidOutboundMessageError) as caught:
        build_followup(TemplateMessage(name="lembrete", language="pt_BR"))
    assert caught.value.code == "unsupported_message_kind"


def test_followup_url_is_the_interaction_webhook() -> None:
    url = followup_url("https://discord.com/api/v10/", "290926444748734465", "A_UNIQUE-TOKEN.x")
    assert url == "https://discord.com/api/v10/webhooks/290926444748734465/A_UNIQUE-TOKEN.x"


@pytest.mark.parametrize(
    ("application_id", "token"),
    [("abc", "tok"), ("290926444748734465", "../../users/@me"), ("290926444748734465", "a?b")],
)
def test_a_reply_context_cannot_steer_the_url(application_id: str, token: str) -> None:
    with pytest.raises(InvalidOutboundMessageError) as caught:
        followup_url("https://discord.com/api/v10", application_id, token)
    assert caught.value.code == "invalid_reply_context"


def test_message_id_comes_from_the_created_message() -> None:
    assert extract_message_id({"id": "1300700000000000000", "type": 0}) == "1300700000000000000"
    assert extract_message_id({"id": 5}) is None
    assert extract_message_id({}) is None
