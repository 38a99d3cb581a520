"""Calling the AI outside the transaction that uses its answers.

A transaction body may run more than once and must not hold locks through a model call of
several seconds. So the processor first runs the (pure) engine on a plain read of the
session with a `RecordingSuggester`, which makes the real calls, and then runs it again
inside the transaction with a `ReplaySuggester` that answers from the recording. A request
the recording does not have (the session changed in between) gets the deterministic
fallback, audited as "stale_plan".
"""

from __future__ import annotations

import logging

from atende.ai.contract import (
    AiFailure,
    AiOutcome,
    AiRequest,
    AiUnavailableError,
    ConversationAI,
)
from atende.domain.audit import AuditKind
from atende.domain.decisions import InboundDecision

logger = logging.getLogger(__name__)


class RecordingSuggester:
    def __init__(self, ai: ConversationAI) -> None:
        self._ai = ai
        self.recorded: dict[str, AiOutcome] = {}

    def __call__(self, request: AiRequest) -> AiOutcome:
        key = request.fingerprint()
        if key not in self.recorded:
            try:
                outcome: AiOutcome = self._ai.suggest(request)
            except AiUnavailableError as error:
                outcome = AiFailure(reason=error.reason)
            self.recorded[key] = outcome
        return self.recorded[key]


class ReplaySuggester:
    def __init__(self, recorded: dict[str, AiOutcome]) -> None:
        self._recorded = dict(recorded)

    def __call__(self, request: AiRequest) -> AiOutcome:
        return self._recorded.get(request.fingerprint(), AiFailure(reason="stale_plan"))


def log_fallbacks(plan: InboundDecision) -> None:
    """One warning per deterministic fallback, with its reason: what the "AI fallbacks"
    log-based metric counts (the audit trail has them too)."""
    for entry in plan.audit:
        if entry.kind == AuditKind.AI_DECISION and entry.detail.get("outcome") == "fallback":
            logger.warning(
                "AI fallback: the deterministic reply is used",
                extra={"json_fields": {"outcome": "ai_fallback", "reason": entry.detail["reason"]}},
            )
