"""Events that are not someone writing to us, from the providers' documented payloads through
the channel parser to what the conversation does: a WhatsApp `revoke` or `edit`, a Messenger
`fallback` (a shared link), an Instagram `story_mention` or `share`.

Each delivery is parsed by the real channel parser, admitted to the session and answered with
`answer_inbox`, as `process_inbound` does; the outbox is what the contact would receive.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from atende.channels.instagram.parse import parse_delivery as parse_instagram
from atende.channels.messenger.parse import parse_delivery as parse_messenger
from atende.channels.whatsapp.parse import parse_delivery as parse_whatsapp
from atende.conversation.engine import ConversationEngine
from atende.conversation.idle import close_if_idle
from atende.domain.audit import AuditKind
from atende.domain.decisions import InboundDecision
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.session import Session, StoredMessage
from atende.fsm.states import State
from atende.process_inbound.decisions import DecisionContext, admit_message, answer_inbox
from atende.tenants.tenant_config import DEFAULT_CONFIG, AbusePolicy, TenantConfig

DATA = Path(__file__).resolve().parents[2] / "data"
MESSAGES = DEFAULT_CONFIG.messages
HOLD = timedelta(seconds=1)
PARSERS = {"whatsapp": parse_whatsapp, "messenger": parse_messenger, "instagram": parse_instagram}


def load(channel: str, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / channel / f"{name}.json").read_text("utf-8"))
    return document


def parsed(channel: str, name: str, document: dict[str, Any] | None = None) -> MessageReceived:
    body = json.dumps(document or load(channel, name)).encode()
    (event,) = PARSERS[channel](body)
    assert isinstance(event, MessageReceived)
    return event


class Conversation:
    """One contact's session, fed events the way the processor feeds them."""

    def __init__(self, tenant: TenantConfig = DEFAULT_CONFIG) -> None:
        self.tenant = tenant
        self.session: Session | None = None
        self.decisions: list[InboundDecision] = []

    def receive(self, event: MessageReceived) -> InboundDecision:
        now = event.occurred_at + HOLD
        ctx = DecisionContext(
            tenant_id="demo",
            session_id="s1",
            now=now,
            outbox_ttl=timedelta(days=30),
            dedupe_ttl=timedelta(days=7),
            hold=HOLD,
            tenant=self.tenant,
        )
        admitted = admit_message(self.session, event, event.occurred_at, ctx)
        assert admitted is not None
        decision = answer_inbox(admitted, ConversationEngine(), ctx)
        self.session = decision.session
        self.decisions.append(decision)
        return decision

    def text(self, body: str, at: datetime, message_id: str) -> InboundDecision:
        return self.receive(
            MessageReceived(
                channel="whatsapp",
                event_id=message_id,
                account_id="106540352242922",
                contact_id="5511999990000",
                occurred_at=at,
                message_id=message_id,
                kind=MessageKind.TEXT,
                text=body,
            )
        )

    @property
    def state(self) -> State:
        assert self.session is not None
        return self.session.state

    def stored(self, message_id: str) -> StoredMessage:
        assert self.session is not None
        (message,) = [m for m in self.session.messages if m.id == message_id]
        return message


def bodies(decision: InboundDecision) -> list[str]:
    return [record.message.body for record in decision.outbox]  # type: ignore[union-attr]


def recorded(decision: InboundDecision) -> list[dict[str, Any]]:
    return [
        entry.detail
        for entry in decision.audit
        if entry.kind == AuditKind.POLICY_DECISION and entry.detail.get("outcome") == "recorded"
    ]


def transitions(decision: InboundDecision) -> list[Any]:
    return [entry.detail for entry in decision.audit if entry.kind == AuditKind.STATE_TRANSITION]


def original_text_message() -> MessageReceived:
    return parsed("whatsapp", "message_text")


def open_conversation() -> tuple[Conversation, MessageReceived]:
    """The contact wrote the documented text message and was answered (greeted)."""
    conversation = Conversation()
    original = original_text_message()
    assert bodies(conversation.receive(original)) == [MESSAGES.greeting, MESSAGES.triage_question]
    return conversation, original


# -- WhatsApp revoke ---------------------------------------------------------------------


def test_a_revoke_as_the_first_event_is_recorded_and_never_greeted() -> None:
    conversation = Conversation()
    decision = conversation.receive(parsed("whatsapp", "message_revoke"))
    assert decision.outbox == ()
    assert conversation.state == State.NEW
    assert transitions(decision) == []
    assert recorded(decision) == [
        {
            "policy": "content",
            "outcome": "recorded",
            "reason": "message_deleted",
            "original_found": False,
        }
    ]
    revoke = load("whatsapp", "message_revoke")["entry"][0]["changes"][0]["value"]["messages"][0]
    assert conversation.stored(revoke["id"]).kind == "deleted"


def test_a_conversation_a_revoke_left_new_is_not_closed_for_inactivity() -> None:
    conversation = Conversation()
    decision = conversation.receive(parsed("whatsapp", "message_revoke"))
    session = decision.session
    ctx = DecisionContext(
        tenant_id="demo",
        session_id="s1",
        now=datetime(2030, 1, 1, tzinfo=UTC),
        outbox_ttl=timedelta(days=30),
        dedupe_ttl=timedelta(days=7),
        hold=HOLD,
    ).turn_context()
    # No "conversation closed" to someone who never wrote to us.
    assert close_if_idle(session, session.activity_seq, ctx) is None


def test_the_first_real_message_after_a_revoke_is_greeted() -> None:
    conversation = Conversation()
    revoke = parsed("whatsapp", "message_revoke")
    conversation.receive(revoke)
    decision = conversation.text("Oi", revoke.occurred_at + timedelta(minutes=1), "wamid.next")
    assert bodies(decision) == [MESSAGES.greeting, MESSAGES.triage_question]


def test_a_revoke_marks_the_message_it_deletes_and_is_not_answered() -> None:
    conversation, original = open_conversation()
    state = conversation.state
    decision = conversation.receive(parsed("whatsapp", "message_revoke"))
    assert decision.outbox == ()
    assert conversation.state == state
    deleted = conversation.stored(original.message_id)
    assert (deleted.kind, deleted.text) == ("deleted", None)
    assert recorded(decision)[0]["original_found"] is True


# -- WhatsApp edit -----------------------------------------------------------------------


def test_an_edit_puts_the_new_text_on_the_original_message_and_gets_no_second_answer() -> None:
    conversation, original = open_conversation()
    edit = parsed("whatsapp", "message_edit")
    decision = conversation.receive(edit)
    assert decision.outbox == ()
    assert transitions(decision) == []
    assert conversation.stored(original.message_id).text == edit.text
    assert conversation.stored(edit.message_id).text is None  # one copy, on the original
    assert [d["reason"] for d in recorded(decision)] == ["message_edited"]


def test_an_edit_as_the_first_event_keeps_its_text_and_is_not_greeted() -> None:
    conversation = Conversation()
    edit = parsed("whatsapp", "message_edit")
    decision = conversation.receive(edit)
    assert decision.outbox == ()
    assert conversation.state == State.NEW
    # The original never reached us: the edit is the only record of the text.
    assert conversation.stored(edit.message_id).text == edit.text


def test_edits_do_not_count_as_a_flood() -> None:
    tenant = TenantConfig(abuse=AbusePolicy(flood_limit=2, flood_window_seconds=60))
    conversation = Conversation(tenant)
    original = original_text_message()
    conversation.receive(original)
    edit = load("whatsapp", "message_edit")
    item = edit["entry"][0]["changes"][0]["value"]["messages"][0]
    for index in range(3):
        item["id"] = f"wamid.edit.{index}"
        item["timestamp"] = str(int(original.occurred_at.timestamp()) + 10 + index)
        assert conversation.receive(parsed("whatsapp", "", edit)).outbox == ()
    decision = conversation.text(
        "Qual o horário?", original.occurred_at + timedelta(seconds=20), "wamid.question"
    )
    assert bodies(decision) == [MESSAGES.default_answer]


def test_a_notice_in_a_handoff_tells_the_agent_there_is_something_new() -> None:
    conversation, original = open_conversation()
    decision = conversation.text(
        "quero falar com um atendente", original.occurred_at + timedelta(seconds=5), "wamid.h"
    )
    assert conversation.state == State.HANDOFF_HUMAN
    assert decision.handoff is not None and decision.handoff.unread == 0
    edit = parsed("whatsapp", "message_edit")
    decision = conversation.receive(edit)
    assert decision.outbox == ()
    assert decision.handoff is not None and decision.handoff.unread == 1
    # The agent reads the message as the contact left it.
    assert conversation.stored(original.message_id).text == edit.text


# -- Messenger fallback (a shared link) --------------------------------------------------


def test_a_shared_link_as_the_first_event_is_kept_and_not_greeted() -> None:
    conversation = Conversation()
    decision = conversation.receive(parsed("messenger", "message_attachment_fallback"))
    assert decision.outbox == ()
    assert conversation.state == State.NEW
    assert [d["reason"] for d in recorded(decision)] == ["shared_content"]


def test_a_shared_link_with_a_question_is_someone_writing_to_us() -> None:
    conversation = Conversation()
    decision = conversation.receive(parsed("messenger", "message_attachment_fallback_with_text"))
    assert bodies(decision) == [MESSAGES.greeting, MESSAGES.triage_question]


def test_a_shared_link_in_an_open_conversation_is_unsupported_content_as_before() -> None:
    conversation = Conversation()
    first = parsed("messenger", "message_text")
    conversation.receive(first)
    assert conversation.state == State.TRIAGE
    fallback = load("messenger", "message_attachment_fallback")
    fallback["entry"][0]["messaging"][0]["timestamp"] = (
        int(first.occurred_at.timestamp() * 1000) + 60_000
    )
    decision = conversation.receive(parsed("messenger", "", fallback))
    assert bodies(decision) == [MESSAGES.cannot_read]


# -- Instagram story mention and share ---------------------------------------------------


def test_a_story_mention_is_recorded_for_an_agent_and_never_answered() -> None:
    conversation = Conversation()
    mention = parsed("instagram", "message_attachment_story_mention")
    decision = conversation.receive(mention)
    assert decision.outbox == ()
    assert conversation.state == State.NEW
    assert recorded(decision) == [
        {"policy": "content", "outcome": "recorded", "reason": "story_mention"}
    ]
    # What an agent reads in the session: the contact mentioned the account, then.
    stored = conversation.stored(mention.message_id)
    assert (stored.kind, stored.author, stored.at) == ("mention", "contact", mention.occurred_at)


def test_a_story_mention_in_an_open_conversation_is_not_answered_either() -> None:
    conversation = Conversation()
    first = parsed("instagram", "message_text")
    conversation.receive(first)
    mention = load("instagram", "message_attachment_story_mention")
    mention["entry"][0]["messaging"][0]["timestamp"] = (
        int(first.occurred_at.timestamp() * 1000) + 60_000
    )
    decision = conversation.receive(parsed("instagram", "", mention))
    assert decision.outbox == ()
    assert conversation.state == State.TRIAGE


def test_a_shared_post_as_the_first_event_is_kept_and_not_greeted() -> None:
    conversation = Conversation()
    decision = conversation.receive(parsed("instagram", "message_attachment_share"))
    assert decision.outbox == ()
    assert conversation.state == State.NEW
    assert [d["reason"] for d in recorded(decision)] == ["shared_content"]
