"""Builds the `AiRequest` for one message: redacted, bounded, and nothing the model must not see.

Pure. Every text passes through `redact()`, so phone numbers, e-mails, documents and tokens
reach the model only as markers such as `[phone]`. The values the contact gave for required
fields are never included, only the fields' names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from atende.ai.contract import AiRequest, AiTurn
from atende.observability.redaction import redact
from atende.tenants.tenant_config import TenantConfig

Role = Literal["user", "assistant"]


def build_request(
    *,
    tenant_id: str,
    channel: str,
    state: str,
    allowed_next_states: Sequence[str],
    history: Sequence[tuple[Role, str]],
    tenant: TenantConfig,
    text_limit: int,
    budget_chars: int,
    model: str | None,
) -> AiRequest:
    """The request for the newest turn of `history` (oldest first, the message last).

    Raises ValueError for an empty history (there is nothing to answer) or a budget or text
    limit below one character.
    """
    if not history:
        raise ValueError("history must end with the message to answer")
    if budget_chars < 1 or text_limit < 1:
        raise ValueError("budget_chars and text_limit must be positive")
    return AiRequest(
        tenant_id=tenant_id,
        channel=channel,
        model=tenant.ai.model or model,
        state=state,
        allowed_next_states=tuple(allowed_next_states),
        history=_within_budget(history, budget_chars),
        tenant_context=tenant_context(tenant),
        text_limit=text_limit,
    )


def _within_budget(history: Sequence[tuple[Role, str]], budget: int) -> tuple[AiTurn, ...]:
    """The newest turns whose redacted texts fit `budget` together; an unbroken run, so
    the model never sees a conversation with a hole in it.

    Redacted before measuring and cutting: cutting first could leave a piece of a phone
    number too short for `redact()` to recognise.
    """
    kept: list[AiTurn] = []
    used = 0
    for role, text in reversed(history):
        clean = redact(text)
        if not kept and len(clean) > budget:
            # The message itself is always answered: keep its end, where it usually asks.
            kept.append(AiTurn(role=role, text=clean[-budget:]))
            break
        if used + len(clean) > budget:
            break
        kept.append(AiTurn(role=role, text=clean))
        used += len(clean)
    return tuple(reversed(kept))


def tenant_context(tenant: TenantConfig) -> str:
    """The tenant's instructions, FAQ and the names of the fields it collects, redacted."""
    parts: list[str] = []
    if tenant.ai.prompt.strip():
        parts.append(f"Company instructions:\n{tenant.ai.prompt.strip()}")
    if tenant.faq:
        lines = [f"- {', '.join(entry.keywords)}: {entry.answer}" for entry in tenant.faq]
        parts.append("FAQ (keywords: answer):\n" + "\n".join(lines))
    if tenant.required_fields:
        names = ", ".join(field.name for field in tenant.required_fields)
        parts.append(f"Information the company collects from contacts: {names}")
    return redact("\n\n".join(parts))
