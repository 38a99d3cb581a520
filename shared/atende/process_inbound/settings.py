"""How long processing keeps things and how long a message waits before it is answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class ProcessingSettings:
    dedupe_ttl: timedelta
    outbox_ttl: timedelta
    #: How long a message waits before it is answered (see `Session.ready`).
    answer_hold: timedelta
    #: How long a contact who never pauses waits for an answer (see `Session.ready`).
    answer_max_wait: timedelta | None = None
