"""The interface every conversation engine implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from atende.domain.events import MessageReceived
from atende.domain.messages import OutboundMessage


@dataclass(frozen=True)
class Turn:
    """The outcome of one inbound message: the next state and the replies, in order."""

    state: str
    replies: tuple[OutboundMessage, ...] = ()
    handoff: bool = False
    #: A short PII-free reason for the transition, for the audit trail.
    reason: str = ""


class ConversationStep(Protocol):
    def respond(self, state: str, message: MessageReceived) -> Turn: ...
