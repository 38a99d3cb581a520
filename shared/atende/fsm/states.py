"""The states a conversation can be in."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    COLLECTING_INFO = "collecting_info"
    ANSWERING = "answering"
    WAITING_USER = "waiting_user"
    HANDOFF_HUMAN = "handoff_human"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ERROR = "error"


#: States in which the bot answers the contact's free text.
BOT_STATES = frozenset({State.TRIAGE, State.COLLECTING_INFO, State.ANSWERING, State.WAITING_USER})
#: States a new message reopens: the conversation goes on with its history.
ENDED_STATES = frozenset({State.RESOLVED, State.CLOSED})
