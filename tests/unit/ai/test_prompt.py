"""The messages and the structured-output schema a model receives."""

from __future__ import annotations

from typing import Any

from atende.ai.contract import AiReply, AiRequest, AiTurn
from atende.ai.prompt import messages, response_format
from atende.devstack.ai_sandbox import allowed_states

REQUEST = AiRequest(
    tenant_id="loja",
    channel="whatsapp",
    model="gpt-4o-mini",
    state="triage",
    allowed_next_states=("waiting_user", "handoff"),
    history=(
        AiTurn(role="user", text="Oi, meu telefone é [phone]"),
        AiTurn(role="assistant", text="Olá! Como posso ajudar?"),
        AiTurn(role="user", text="Vocês abrem no sábado?"),
    ),
    tenant_context="FAQ (keywords: answer):\n- sábado: Abrimos aos sábados das 9h às 13h.",
    text_limit=300,
)


def _objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema in `node`, nested ones included."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found.extend(_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_objects(value))
    return found


def test_the_response_format_is_strict_structured_output_for_ai_reply() -> None:
    fmt = response_format(REQUEST)
    assert fmt["type"] == "json_schema"
    spec = fmt["json_schema"]
    assert spec["strict"] is True
    assert spec["name"].replace("_", "").isalnum()
    schema: Any = spec["schema"]
    assert set(schema["properties"]) == set(AiReply.model_fields)
    # What strict mode demands of every object: all properties required, no others.
    for node in _objects(schema):
        assert node["additionalProperties"] is False
        assert sorted(node["required"]) == sorted(node["properties"])
    types = {name: prop["type"] for name, prop in schema["properties"].items()}
    assert types == {
        "reply": "string", "next_state": "string", "handoff": "boolean", "confidence": "number",
    }  # fmt: skip


def test_next_state_is_limited_to_the_allowed_states_and_the_current_one() -> None:
    assert _enum(REQUEST) == ["waiting_user", "handoff", "triage"]
    staying = REQUEST.model_copy(update={"allowed_next_states": ("triage", "handoff")})
    assert _enum(staying) == ["triage", "handoff"]


def _enum(request: AiRequest) -> Any:
    schema: Any = response_format(request)["json_schema"]["schema"]
    return schema["properties"]["next_state"]["enum"]


def test_the_system_prompt_states_the_rules_and_the_company_context() -> None:
    chat = messages(REQUEST)
    assert chat[0]["role"] == "system"
    system = str(chat[0]["content"])
    assert "Current conversation state: triage" in system
    assert "Allowed next states: waiting_user, handoff" in system
    assert "at most 300 characters" in system
    assert "[phone]" in system and "Never write these markers" in system
    assert "Abrimos aos sábados das 9h às 13h." in system
    # The local AI sandbox (like a model) can read the allowed states from the prompt alone.
    assert allowed_states({"messages": chat}) == ["waiting_user", "handoff"]


def test_the_conversation_follows_the_system_prompt_in_order() -> None:
    chat = messages(REQUEST)
    assert [(m["role"], m.get("content")) for m in chat[1:]] == [
        ("user", "Oi, meu telefone é [phone]"),
        ("assistant", "Olá! Como posso ajudar?"),
        ("user", "Vocês abrem no sábado?"),
    ]


def test_without_allowed_states_or_context_the_prompt_says_so() -> None:
    bare = REQUEST.model_copy(update={"allowed_next_states": (), "tenant_context": ""})
    system = str(messages(bare)[0]["content"])
    assert "Allowed next states: (none: stay in the current state)" in system
    assert system.endswith("Company information:\n(none)")
    assert allowed_states({"messages": messages(bare)}) == []
