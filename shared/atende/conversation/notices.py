"""Events that are not someone writing to us: recorded for a person, never answered.

A deletion, an edit or a story mention reaches the engine as a `MessageReceived` of a
`NOTICE_KINDS` kind (the pipeline has already added it to the session's history). The
conversation keeps it where an agent and the CRM read it — the session's `messages[]` and a
`policy_decision` audit entry (`policy: content`, `outcome: recorded`) — and does nothing
else: no reply, no transition, no policy, so a notice never starts a conversation and never
gets a second answer to a message already answered.

A shared link or post (`MessageKind.SHARE`) with nothing typed is kept the same way while no
conversation is open; in an open one it is content like any other (see the engine).
"""

from __future__ import annotations

from atende.conversation.builder import TurnBuilder
from atende.domain.audit import AuditKind
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.session import Session, StoredMessage
from atende.fsm.states import ENDED_STATES, State

#: The reason code each notice is recorded under (audit `policy_decision`, `content`).
NOTICE_REASONS: dict[MessageKind, str] = {
    MessageKind.DELETED: "message_deleted",
    MessageKind.EDITED: "message_edited",
    MessageKind.MENTION: "story_mention",
}
SHARED_REASON = "shared_content"

#: States with no conversation going on: nothing was started yet, or it ended.
_NOT_OPEN = frozenset({State.NEW, *ENDED_STATES})


def is_bare_share_outside_a_conversation(session: Session, message: MessageReceived) -> bool:
    """A shared link or post with nothing typed, while no conversation is open."""
    typed = message.text is not None and message.text.strip() != ""
    return message.kind == MessageKind.SHARE and not typed and session.state in _NOT_OPEN


def record_share(turn: TurnBuilder) -> None:
    turn.note(AuditKind.POLICY_DECISION, policy="content", outcome="recorded",
              reason=SHARED_REASON)  # fmt: skip


def record_notice(turn: TurnBuilder, message: MessageReceived) -> None:
    """Apply a deletion or an edit to the message it names, and record the notice."""
    found = message.target_message_id is not None and any(
        stored.id == message.target_message_id and stored.author == "contact"
        for stored in turn.session.messages
    )
    if found and message.kind == MessageKind.DELETED:
        # As WhatsApp shows it: the message is there, marked deleted, its text gone (the AI
        # history and the CRM no longer read it).
        _rewrite(turn, message.target_message_id, kind=MessageKind.DELETED.value, text=None,
                 choice_id=None)  # fmt: skip
    elif found and message.kind == MessageKind.EDITED:
        # The new text belongs to the original message; the edit itself keeps no copy.
        _rewrite(turn, message.target_message_id, text=message.text)
        _rewrite(turn, message.message_id, text=None)
    info = turn.session.handoff
    if turn.session.state == State.HANDOFF_HUMAN and info is not None:
        # The agent's queue learns there is something new to look at.
        turn.update(
            handoff=info.model_copy(
                update={"unread": info.unread + 1, "last_inbound_at": message.occurred_at}
            )
        )
    detail: dict[str, str | bool] = {"policy": "content", "outcome": "recorded",
                                     "reason": NOTICE_REASONS[message.kind]}  # fmt: skip
    if message.kind != MessageKind.MENTION:
        detail["original_found"] = found
    turn.note(AuditKind.POLICY_DECISION, **detail)


def _rewrite(turn: TurnBuilder, message_id: str | None, **fields: str | None) -> None:
    messages: tuple[StoredMessage, ...] = tuple(
        stored.model_copy(update=fields) if stored.id == message_id else stored
        for stored in turn.session.messages
    )
    turn.update(messages=messages)
