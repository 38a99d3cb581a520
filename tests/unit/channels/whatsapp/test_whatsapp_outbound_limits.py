"""Every documented WhatsApp limit: just inside builds, just outside is refused."""

from __future__ import annotations

from typing import Any

import pytest

from atende.channels.whatsapp.outbound import build_payload
from atende.domain.messages import (
    Button,
    ButtonsMessage,
    ListMessage,
    ListRow,
    ListSection,
    MediaMessage,
    OutboundMessage,
    TemplateMessage,
    TextMessage,
)
from atende.errors import InvalidOutboundMessageError

TO = "5511999990000"


def buttons(count: int = 2, id_: str | None = None) -> ButtonsMessage:
    return ButtonsMessage(
        body="Podemos ajudar?",
        buttons=tuple(Button(id=id_ or f"b{i}", title=f"Opção {i}") for i in range(count)),
    )


def titled(title: str) -> ButtonsMessage:
    return ButtonsMessage(body="Podemos ajudar?", buttons=(Button(id="b", title=title),))


def one_button(**fields: Any) -> ButtonsMessage:
    return ButtonsMessage(
        body="Podemos ajudar?", buttons=(Button(id="yes", title="Sim"),), **fields
    )


def rows(count: int, start: int = 0) -> tuple[ListRow, ...]:
    return tuple(ListRow(id=f"r{i}", title=f"Opção {i}") for i in range(start, start + count))


def a_list(*sections: ListSection, button: str = "Ver opções") -> ListMessage:
    return ListMessage(
        body="Escolha", button=button, sections=sections or (ListSection(rows=rows(2)),)
    )


def row_list(row: ListRow) -> ListMessage:
    return a_list(ListSection(rows=(row,)))


def sections(
    count: int, rows_each: int = 1, title: str | None = "Seção"
) -> tuple[ListSection, ...]:
    return tuple(
        ListSection(title=title, rows=rows(rows_each, start=i * rows_each)) for i in range(count)
    )


def image(**fields: Any) -> MediaMessage:
    return MediaMessage(media_type="image", link="https://cdn.example.com/a.jpg", **fields)


# (limit, just inside, just outside): the inside one builds, the outside one is refused.
LIMITS: list[tuple[str, OutboundMessage, OutboundMessage]] = [
    ("text body", TextMessage(body="a"), TextMessage(body="")),
    ("text body", TextMessage(body="a" * 4096), TextMessage(body="a" * 4097)),
    ("media caption", image(caption="c" * 1024), image(caption="c" * 1025)),
    (
        "interactive body",
        one_button().model_copy(update={"body": "b" * 1024}),
        one_button().model_copy(update={"body": "b" * 1025}),
    ),
    (
        "interactive body",
        one_button().model_copy(update={"body": "b"}),
        one_button().model_copy(update={"body": ""}),
    ),
    ("header text", one_button(header="h" * 60), one_button(header="h" * 61)),
    ("footer", one_button(footer="f" * 60), one_button(footer="f" * 61)),
    ("reply buttons", buttons(3), buttons(4)),
    ("reply buttons", buttons(1), buttons(0)),
    ("button title", titled("t" * 20), titled("t" * 21)),
    (
        "button title",
        ButtonsMessage(body="b", buttons=(Button(id="x", title="t"),)),
        ButtonsMessage(body="b", buttons=(Button(id="x", title=""),)),
    ),
    (
        "button id",
        ButtonsMessage(body="b", buttons=(Button(id="i" * 256, title="t"),)),
        ButtonsMessage(body="b", buttons=(Button(id="i" * 257, title="t"),)),
    ),
    (
        "button id",
        ButtonsMessage(body="b", buttons=(Button(id="i", title="t"),)),
        ButtonsMessage(body="b", buttons=(Button(id="", title="t"),)),
    ),
    ("button ids", buttons(2), buttons(2, id_="same")),
    (
        "button titles",
        ButtonsMessage(body="b", buttons=(Button(id="1", title="A"), Button(id="2", title="B"))),
        ButtonsMessage(body="b", buttons=(Button(id="1", title="A"), Button(id="2", title="A"))),
    ),
    ("list button label", a_list(button="l" * 20), a_list(button="l" * 21)),
    ("list button label", a_list(button="l"), a_list(button="")),
    ("list sections", a_list(*sections(10)), a_list(*sections(11))),
    ("list sections", a_list(*sections(1)), ListMessage(body="b", button="l", sections=())),
    (
        "list rows",
        a_list(*sections(2, rows_each=5)),
        a_list(*sections(2, rows_each=5), *sections(1)),
    ),
    ("list rows", a_list(ListSection(rows=rows(10))), a_list(ListSection(rows=rows(11)))),
    (
        "at least one row",
        a_list(*sections(2)),
        a_list(ListSection(title="A", rows=rows(1)), ListSection(title="B", rows=())),
    ),
    (
        "list row title",
        row_list(ListRow(id="r", title="t" * 24)),
        row_list(ListRow(id="r", title="t" * 25)),
    ),
    ("list row title", row_list(ListRow(id="r", title="t")), row_list(ListRow(id="r", title=""))),
    (
        "list row description",
        row_list(ListRow(id="r", title="t", description="d" * 72)),
        row_list(ListRow(id="r", title="t", description="d" * 73)),
    ),
    (
        "list row id",
        row_list(ListRow(id="i" * 200, title="t")),
        row_list(ListRow(id="i" * 201, title="t")),
    ),
    ("list row id", row_list(ListRow(id="i", title="t")), row_list(ListRow(id="", title="t"))),
    (
        "list row ids",
        a_list(ListSection(rows=rows(2))),
        a_list(ListSection(rows=(ListRow(id="r", title="a"), ListRow(id="r", title="b")))),
    ),
    (
        "list section title",
        a_list(*sections(2, title="s" * 24)),
        a_list(*sections(2, title="s" * 25)),
    ),
    (
        "list section title is required",
        a_list(ListSection(rows=rows(1))),
        a_list(*sections(2, title=None)),
    ),
    (
        "template name",
        TemplateMessage(name="n" * 512, language="pt_BR"),
        TemplateMessage(name="n" * 513, language="pt_BR"),
    ),
    (
        "template name",
        TemplateMessage(name="order_update_2", language="pt_BR"),
        TemplateMessage(name="Order-Update", language="pt_BR"),
    ),
    (
        "template name",
        TemplateMessage(name="a", language="pt_BR"),
        TemplateMessage(name="", language="pt_BR"),
    ),
    (
        "template language",
        TemplateMessage(name="a", language="en"),
        TemplateMessage(name="a", language=""),
    ),
    (
        "exactly one of link and media_id",
        MediaMessage(media_type="image", media_id="1003383421387256"),
        MediaMessage(media_type="image", media_id="1", link="https://cdn.example.com/a.jpg"),
    ),
    (
        "exactly one of link and media_id",
        MediaMessage(media_type="image", media_id="1"),
        MediaMessage(media_type="image"),
    ),
    (
        "non-empty",
        MediaMessage(media_type="image", media_id="1"),
        MediaMessage(media_type="image", media_id=""),
    ),
    (
        "takes no caption",
        MediaMessage(media_type="audio", media_id="1"),
        MediaMessage(media_type="audio", media_id="1", caption="c"),
    ),
    (
        "takes no caption",
        MediaMessage(media_type="sticker", media_id="1"),
        MediaMessage(media_type="sticker", media_id="1", caption="c"),
    ),
    (
        "filename",
        MediaMessage(media_type="document", media_id="1", filename="a.pdf"),
        MediaMessage(media_type="image", media_id="1", filename="a.pdf"),
    ),
]


@pytest.mark.parametrize(
    ("limit", "inside", "outside"), LIMITS, ids=[f"{case[0]}-{i}" for i, case in enumerate(LIMITS)]
)
def test_limit_just_inside_builds_and_just_outside_is_refused(
    limit: str, inside: OutboundMessage, outside: OutboundMessage
) -> None:
    assert build_payload(inside, TO)["to"] == TO
    with pytest.raises(InvalidOutboundMessageError) as caught:
        build_payload(outside, TO)
    assert limit in str(caught.value)


@pytest.mark.parametrize("recipient", ["", "+5511999990000", "55 11 99999", "٥٥١١", "abc"])
def test_recipient_must_be_a_wa_id_of_digits(recipient: str) -> None:
    with pytest.raises(InvalidOutboundMessageError, match="recipient"):
        build_payload(TextMessage(body="oi"), recipient)


def test_callback_data_is_attached_up_to_512_characters() -> None:
    payload = build_payload(TextMessage(body="oi"), TO, callback_data="c" * 512)
    assert payload["biz_opaque_callback_data"] == "c" * 512
    assert "biz_opaque_callback_data" not in build_payload(TextMessage(body="oi"), TO)
    with pytest.raises(InvalidOutboundMessageError, match="biz_opaque_callback_data"):
        build_payload(TextMessage(body="oi"), TO, callback_data="c" * 513)


def test_error_names_the_limit_but_not_the_content() -> None:
    with pytest.raises(InvalidOutboundMessageError) as caught:
        build_payload(TextMessage(body="segredo " * 600), TO)
    assert "segredo" not in str(caught.value)
    assert "4096" in str(caught.value)
