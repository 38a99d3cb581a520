"""Anti-abuse: a flood over a sliding window, the same text again and again, oversized input.

An abusive contact gets one notice and is then ignored for a cool-down. The window is the
session's own message history in Firestore (provider times of the contact's messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from atende.domain.events import NOTICE_KINDS, MessageReceived
from atende.domain.keys import stable_hash
from atende.domain.session import AbuseState, Session
from atende.policies.decision import Policy, PolicyDecision
from atende.policies.text import normalized_words
from atende.tenants.tenant_config import AbusePolicy


@dataclass(frozen=True)
class AbuseCheck:
    state: AbuseState
    #: None: the message may be answered.
    decision: PolicyDecision | None = None
    #: True once per cool-down: the one notice goes out with this message.
    notify: bool = False


def check_abuse(
    session: Session, message: MessageReceived, policy: AbusePolicy, now: datetime
) -> AbuseCheck:
    """`session` already holds `message` in its history (the window counts it)."""
    current = session.abuse
    if current.cooldown_until is not None and now < current.cooldown_until:
        # Ignored, and not counted toward anything later (repeats included).
        return AbuseCheck(
            state=current,
            decision=PolicyDecision(Policy.ABUSE, "ignored", f"cooling_down:{current.reason}"),
        )
    state = _counted_repeat(current, message)
    reason = _violation(session, message, state, policy)
    if reason is None:
        # `cooldown_until` stays: the flood window never reaches back before it.
        return AbuseCheck(state=state)
    cooled = state.model_copy(
        update={
            "cooldown_until": now + timedelta(seconds=policy.cooldown_seconds),
            "reason": reason,
            "repeats": 0,
        }
    )
    return AbuseCheck(
        state=cooled, decision=PolicyDecision(Policy.ABUSE, "cooldown", reason), notify=True
    )


def _counted_repeat(state: AbuseState, message: MessageReceived) -> AbuseState:
    words = normalized_words(message.text)
    if not words:
        return state.model_copy(update={"last_text_hash": None, "repeats": 0})
    digest = stable_hash("text", " ".join(words))[:16]
    repeats = state.repeats + 1 if digest == state.last_text_hash else 1
    return state.model_copy(update={"last_text_hash": digest, "repeats": repeats})


def _violation(
    session: Session, message: MessageReceived, state: AbuseState, policy: AbusePolicy
) -> str | None:
    if message.text is not None and len(message.text) > policy.max_input_chars:
        return "oversized_input"
    if state.repeats >= policy.repeat_limit:
        return "repeated_message"
    window_start = message.occurred_at - timedelta(seconds=policy.flood_window_seconds)
    if state.cooldown_until is not None:
        # Messages ignored during a cool-down that just ended do not start the next one.
        window_start = max(window_start, state.cooldown_until)
    recent = sum(
        1
        for stored in session.messages
        if stored.author == "contact"
        # A deletion, an edit or a mention is not a message written to us.
        and stored.kind not in NOTICE_KINDS
        and window_start < stored.at <= message.occurred_at
    )
    if recent > policy.flood_limit:
        return "flood"
    return None
