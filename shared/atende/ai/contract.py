"""What the engine asks the AI and what it accepts back.

The engine stays pure: it builds an `AiRequest`, and a `Suggester` answers it with an
`AiReply` or an `AiFailure`. The processor decides where the suggestion comes from (a real
call before the transaction, a replay inside it).
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from atende.domain.keys import stable_hash
from atende.errors import TransientError


class AiTurn(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["user", "assistant"]
    #: Already redacted: the AI never sees personal data.
    text: str


class AiRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: str
    model: str | None = None
    #: The session's state and where the FSM lets the conversation go from it.
    state: str
    allowed_next_states: tuple[str, ...]
    #: Newest last, redacted, within the history budget; the last turn is the message.
    history: tuple[AiTurn, ...]
    #: Redacted tenant context: FAQ, prompt additions, collected-field names.
    tenant_context: str
    #: The channel's limit for one text message, in characters.
    text_limit: int

    def fingerprint(self) -> str:
        """Stable over equal requests: a recorded suggestion is replayed only for its request."""
        return stable_hash("ai", self.model_dump_json())


class AiReply(BaseModel):
    """The structured output the model must return (its JSON schema is sent with the call)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reply: str = Field(description="The message to send to the contact.")
    next_state: str = Field(description="One of the allowed next states.")
    handoff: bool = Field(description="True when a person should take over.")
    confidence: float = Field(ge=0, le=1, description="How sure the model is, 0 to 1.")


class AiFailure(BaseModel):
    """Why there is no usable suggestion: a PII-free code for the audit trail and metrics."""

    model_config = ConfigDict(frozen=True)

    reason: str


AiOutcome = AiReply | AiFailure


class AiUnavailableError(TransientError):
    """The AI call failed (timeout, HTTP error, open breaker, unparsable output)."""

    code = "ai_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConversationAI(Protocol):
    def suggest(self, request: AiRequest) -> AiReply:
        """One structured reply; raise AiUnavailableError with a short reason on failure."""
        ...


class Suggester(Protocol):
    def __call__(self, request: AiRequest) -> AiOutcome: ...
