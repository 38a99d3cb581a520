"""What the model is sent: the chat messages and the structured-output schema of `AiReply`.

Pure. The schema is strict (OpenAI structured outputs): every property required, no others,
and `next_state` limited to where the flow may go, so a well-behaved model cannot propose a
forbidden transition; `validate_reply` still checks, since not every endpoint enforces it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from atende.ai.contract import AiReply, AiRequest

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam
    from openai.types.shared_params import ResponseFormatJSONSchema

SCHEMA_NAME: Final = "atende_reply"

#: The prompt's line naming the allowed states; the local AI sandbox reads it as a fallback.
ALLOWED_STATES_LABEL: Final = "Allowed next states:"

_SYSTEM: Final = """\
You are the virtual assistant of a company, answering its contacts in a {channel} chat.
Reply in the contact's language (Brazilian Portuguese unless they write in another one),
kindly, clearly and briefly.

Current conversation state: {state}
{allowed_label} {allowed}
Set next_state to one of the allowed next states, or to the current state to stay in it.

Rules:
- The reply is sent as one message: at most {limit} characters.
- Personal data in the conversation appears only as markers such as [phone], [email], [cpf],
  [cnpj] and [token]. Never write these markers, never guess or repeat the data behind them,
  and never invent phone numbers, e-mail addresses, documents, prices, deadlines or links.
- Use only the company information below. When it does not answer the question, say so
  and offer to transfer the contact to a person (handoff true).
- Set handoff to true when the contact asks for a person, is upset, or needs a person.
- confidence is how sure you are, from 0 to 1, that the reply is correct and helpful.
- Answer only with the JSON object the response format describes.

Company information:
{context}"""


def messages(request: AiRequest) -> list[ChatCompletionMessageParam]:
    """The system prompt, then the (already redacted) conversation, oldest first."""
    allowed = ", ".join(request.allowed_next_states) or "(none: stay in the current state)"
    system = _SYSTEM.format(
        channel=request.channel,
        state=request.state,
        allowed_label=ALLOWED_STATES_LABEL,
        allowed=allowed,
        limit=request.text_limit,
        context=request.tenant_context.strip() or "(none)",
    )
    chat: list[ChatCompletionMessageParam] = [{"role": "system", "content": system}]
    for turn in request.history:
        if turn.role == "user":
            chat.append({"role": "user", "content": turn.text})
        else:
            chat.append({"role": "assistant", "content": turn.text})
    return chat


def next_state_choices(request: AiRequest) -> list[str]:
    """The allowed next states and the current one (staying is always allowed), no repeats."""
    return list(dict.fromkeys((*request.allowed_next_states, request.state)))


def response_format(request: AiRequest) -> ResponseFormatJSONSchema:
    """The strict JSON-schema response format for `AiReply`.

    Built by hand rather than from `AiReply.model_json_schema()`: strict mode accepts only a
    subset of JSON Schema (no titles, no numeric bounds everywhere), and the enum depends on
    the request. The descriptions come from the model, so the two cannot drift apart silently;
    the confidence bounds are checked when the reply is parsed.
    """
    fields = AiReply.model_fields
    properties: dict[str, Any] = {
        "reply": {"type": "string", "description": fields["reply"].description},
        "next_state": {
            "type": "string",
            "enum": next_state_choices(request),
            "description": fields["next_state"].description,
        },
        "handoff": {"type": "boolean", "description": fields["handoff"].description},
        "confidence": {"type": "number", "description": fields["confidence"].description},
    }
    schema: dict[str, object] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": schema},
    }
