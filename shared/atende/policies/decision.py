"""A policy's decision, in the form the audit trail records it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Policy(StrEnum):
    ABUSE = "abuse"
    OPT_OUT = "opt_out"
    HANDOFF = "handoff"
    BUSINESS_HOURS = "business_hours"
    ROUTING = "routing"


@dataclass(frozen=True)
class PolicyDecision:
    policy: Policy
    #: What was decided ("ignored", "opted_out", "queued"…).
    outcome: str
    #: Why, as a code: never message text.
    reason: str
