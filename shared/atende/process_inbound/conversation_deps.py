"""What processing reads besides the session: tenants, channel limits, the AI, calendars."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from atende.ai.contract import ConversationAI
from atende.ports import CalendarSync, SessionReader, TenantDirectory
from atende.process_inbound.decisions import DEFAULT_TEXT_LIMIT


@dataclass(frozen=True)
class AiStep:
    """The optional AI, with what the engine needs to ask it."""

    ai: ConversationAI
    history_chars: int
    model: str | None = None


@dataclass(frozen=True)
class ConversationDeps:
    """What the conversation reads besides the session: tenants, channel limits, the AI."""

    tenants: TenantDirectory
    sessions: SessionReader
    text_limit: Callable[[str], int] = lambda _channel: DEFAULT_TEXT_LIMIT
    ai: AiStep | None = None
    #: A calendar channel's sync (for change notices that carry no changes themselves).
    calendars: Callable[[str], CalendarSync] | None = None
