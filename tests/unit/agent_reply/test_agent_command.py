"""An agent command's agent_id is an opaque id: e-mail addresses and names are refused with
a clear error, since the id is written to the audit trail and to logs."""

import json

import pytest

from atende.agent_reply.desk import AgentDesk
from atende.errors import MalformedPayloadError


def body(agent_id, **changes):
    command = {
        "action": "reply",
        "tenant_id": "demo",
        "session_id": "a" * 40,
        "request_id": "crm-1",
        "agent_id": agent_id,
        "text": "Oi",
        **changes,
    }
    return json.dumps(command).encode()


@pytest.mark.parametrize(
    "agent_id", ["agent-7", "7", "crm:user:12345", "u_9.team-b", "A" * 64, "f47ac10b-58cc"]
)
def test_opaque_ids_are_accepted(agent_id):
    assert AgentDesk.parse(body(agent_id)).agent_id == agent_id


@pytest.mark.parametrize(
    "agent_id",
    [
        "ana@loja.example",  # an e-mail address
        "Ana Souza",  # a name
        "joão",
        "",
        "A" * 65,
        "agent-7\n",
        "agent/7",
        7,
    ],
)
def test_anything_else_is_refused_with_the_rule(agent_id):
    with pytest.raises(MalformedPayloadError) as refused:
        AgentDesk.parse(body(agent_id))
    assert refused.value.code == "invalid_agent_id"
    assert "opaque id" in str(refused.value) and "e-mail" in str(refused.value)
    assert "loja.example" not in str(refused.value)  # the refused value is not echoed


def test_other_problems_are_named_alongside():
    with pytest.raises(MalformedPayloadError) as refused:
        AgentDesk.parse(body("ana@loja.example", action="shout"))
    assert refused.value.code == "invalid_agent_id"
    assert str(refused.value).endswith("also check: action")


def test_a_command_without_agent_id_problems_keeps_the_general_message():
    with pytest.raises(MalformedPayloadError) as refused:
        AgentDesk.parse(body("agent-7", action="shout"))
    assert refused.value.code == "malformed_payload"
    assert "check: action" in str(refused.value)
