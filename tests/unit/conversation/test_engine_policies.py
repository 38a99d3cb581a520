"""The policies before the engine answers: opting out and back in, flood and repetition
cool-downs, and content the bot cannot read or must ignore."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from chat_support import (
    BOLETO,
    HORARIO,
    MESSAGES,
    SHOP,
    Chat,
    bodies,
    chat_resolved,
    chat_waiting,
    faq_reply,
    policies,
)

from atende.domain.events import MediaRef, MessageKind
from atende.domain.outbox import ReplyOrigin
from atende.fsm.states import State
from atende.tenants.tenant_config import AbusePolicy

# -- opt-out -----------------------------------------------------------------------------


def test_opting_out_while_a_person_has_the_conversation_holds_after_the_hand_back() -> None:
    chat = Chat()
    chat.send("Oi")
    chat.send("atendente")
    decision = chat.send("PARAR")
    assert decision.outbox == ()  # the agent reads it; the bot stays silent
    assert decision.session.opted_out is True
    assert ("opt_out", "opted_out", "opt_out_keyword") in policies(decision)
    again = chat.send("na verdade, pode continuar")
    assert again.outbox == () and again.session.opted_out is False
    assert ("opt_out", "resumed", "contact_wrote_again") in policies(again)


def test_a_thank_you_after_the_goodbye_does_not_reopen_the_conversation() -> None:
    chat = chat_resolved()
    decision = chat.send("obrigada!")
    assert decision.outbox == () and decision.session.state == State.RESOLVED
    assert policies(decision) == [("content", "ignored", "closing_after_resolved")]
    contact_texts = [m.text for m in decision.session.messages if m.author == "contact"]
    assert contact_texts[-1] == "obrigada!"  # kept all the same


def test_opting_out_sends_one_confirmation_the_opt_out_does_not_suppress() -> None:
    chat = chat_waiting()
    decision = chat.send("STOP")
    assert decision.session.opted_out is True
    assert decision.session.state == State.WAITING_USER
    assert [(r.message.body, r.origin) for r in decision.outbox] == [  # type: ignore[union-attr]
        (MESSAGES.opt_out_confirmation, ReplyOrigin.NOTICE)
    ]
    assert policies(decision) == [("opt_out", "opted_out", "opt_out_keyword")]


def test_a_message_that_mentions_stopping_is_not_an_opt_out() -> None:
    chat = chat_waiting()
    decision = chat.send("não quero parar de receber")
    assert decision.session.opted_out is False
    assert bodies(decision) == [MESSAGES.default_answer]


def test_writing_again_after_opting_out_resumes_automated_replies() -> None:
    chat = chat_waiting()
    chat.send("parar")
    decision = chat.send("Oi, qual o horário?")
    assert decision.session.opted_out is False
    assert ("opt_out", "resumed", "contact_wrote_again") in policies(decision)
    assert bodies(decision) == [faq_reply(HORARIO)]
    assert {r.origin for r in decision.outbox} == {ReplyOrigin.BOT}


# -- abuse -------------------------------------------------------------------------------

FLOOD_TENANT = SHOP.model_copy(
    update={"abuse": AbusePolicy(flood_limit=3, flood_window_seconds=60, cooldown_seconds=120)}
)


def test_a_flood_gets_exactly_one_notice_then_silence_until_the_cool_down_ends() -> None:
    second = timedelta(seconds=1)
    chat = Chat(FLOOD_TENANT)
    other = Chat(FLOOD_TENANT, session_id="s2")
    chat.send("Oi")
    chat.send("qual o horário?", after=second)
    chat.send("e o boleto?", after=second)
    flood = chat.send("e a entrega?", after=second)
    assert bodies(flood) == [MESSAGES.abuse_notice]
    assert policies(flood) == [("abuse", "cooldown", "flood")]

    ignored = [chat.send(f"alô {i}", after=20 * second) for i in range(3)]
    assert [bodies(decision) for decision in ignored] == [[], [], []]
    assert all(("abuse", "ignored", "cooling_down:flood") in policies(d) for d in ignored)
    assert chat.state == State.WAITING_USER  # nothing moved while ignored

    # Another contact of the same tenant writing meanwhile is answered normally.
    other.clock = chat.clock
    assert bodies(other.send("Oi")) == [MESSAGES.greeting, MESSAGES.triage_question]

    back = chat.send("qual o horário?", after=timedelta(minutes=2))
    assert bodies(back) == [faq_reply(HORARIO)]


def test_the_same_message_over_and_over_gets_one_notice() -> None:
    chat = chat_waiting()
    replies = [bodies(chat.send("Oi??")) for _ in range(6)]
    # The fourth identical text in a row (the default limit) starts the cool-down.
    assert replies[3] == [MESSAGES.abuse_notice]
    assert replies[4:] == [[], []]
    assert sum(reply == [MESSAGES.abuse_notice] for reply in replies) == 1


def test_an_oversized_message_gets_the_abuse_notice_not_an_answer() -> None:
    chat = chat_waiting()
    decision = chat.send("qual o horário? " + "a" * 2000)
    assert bodies(decision) == [MESSAGES.abuse_notice]
    assert policies(decision) == [("abuse", "cooldown", "oversized_input")]


# -- content the bot cannot read ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "media"),
    [
        (MessageKind.IMAGE, MediaRef(id="m1", mime_type="image/jpeg")),
        (MessageKind.AUDIO, MediaRef(id="m2", mime_type="audio/ogg")),
        (MessageKind.STICKER, MediaRef(id="m3")),
        (MessageKind.LOCATION, None),
        (MessageKind.UNSUPPORTED, None),
    ],
)
def test_a_message_without_text_gets_the_cannot_read_reply(
    kind: MessageKind, media: MediaRef | None
) -> None:
    chat = chat_waiting()
    decision = chat.send(None, kind=kind, media=media)
    assert bodies(decision) == [MESSAGES.cannot_read]
    assert policies(decision) == [("content", "cannot_read", kind.value)]
    assert decision.session.state == State.WAITING_USER


def test_the_caption_of_a_photo_is_read_as_its_text() -> None:
    chat = chat_waiting()
    photo = MediaRef(id="m1", mime_type="image/jpeg", caption="segunda via desse boleto")
    decision = chat.send(None, kind=MessageKind.IMAGE, media=photo)
    assert bodies(decision) == [faq_reply(BOLETO)]


@pytest.mark.parametrize("start", [Chat, chat_waiting], ids=["new", "waiting_user"])
def test_a_system_message_is_ignored(start: Callable[[], Chat]) -> None:
    chat = start()
    before = chat.session.state if chat.session else State.NEW
    decision = chat.send("O número mudou", kind=MessageKind.SYSTEM)
    assert decision.outbox == ()
    assert decision.session.state == before
    assert policies(decision) == [("content", "ignored", "system_message")]
