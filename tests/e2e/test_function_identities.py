"""Each function runs as its own identity, as in the cloud: it may enqueue only to the
queues atende.deployment declares for it, and read only its own secrets. A grant missing
from the declaration (and so from infra/) fails here, not on the first deployment."""

import time
from dataclasses import replace

import pytest
import requests

from atende.channels.whatsapp import sample
from atende.deployment import functions, grants
from atende.tenants.tenant_config import DEFAULT_CONFIG

CONTACT = "5511999990077"
GREETING = DEFAULT_CONFIG.messages.greeting
TRIAGE_QUESTION = DEFAULT_CONFIG.messages.triage_question


@pytest.fixture
def declared_grants(stack):
    yield
    stack.set_grants(None)  # back to the declaration for the next test


def without(function: str, queue: str) -> dict:
    specs = [
        replace(spec, queues=spec.queues - {queue}) if spec.name == function else spec
        for spec in functions()
    ]
    return grants(specs)


def test_with_the_declared_grants_a_turn_sends_every_reply(whatsapp, declared_grants):
    whatsapp.say(CONTACT, "Oi")
    replies = whatsapp.wait_replies(2)
    assert [reply["text"]["body"] for reply in replies] == [GREETING, TRIAGE_QUESTION]


def test_without_its_outbound_grant_send_outbound_cannot_chain_a_turns_replies(
    whatsapp, stack, declared_grants
):
    """The first review's finding: send_outbound enqueues the session's next reply, so
    without `outbound` in its declaration only the first reply of a turn is ever sent."""
    stack.set_grants(without("send_outbound", "outbound"))
    whatsapp.say(CONTACT, "Oi")
    first = whatsapp.wait_replies(1, settle=4.0)
    assert [reply["text"]["body"] for reply in first] == [GREETING]
    log = (stack.run_dir / "tasks-emulator.log").read_text()
    assert "refused cloudtasks.tasks.create to identity send_outbound" in log
    records = {record["order_key"]: record["status"] for record in whatsapp.outbox()}
    assert sorted(records.values()) == ["pending", "sent"], records  # the second one waits

    # The grant comes back (a fixed deployment): the queue's retry enqueues the next reply.
    stack.set_grants(None)
    replies = whatsapp.wait_replies(2, timeout=30)
    assert [reply["text"]["body"] for reply in replies] == [GREETING, TRIAGE_QUESTION]


def test_a_webhook_may_not_enqueue_where_only_workers_do(whatsapp, stack, declared_grants):
    """Refused at the queue: the provider gets a 5xx and redelivers, nothing is lost."""
    stack.set_grants(without("whatsapp_webhook", "inbound"))
    body = sample.encode(sample.delivery([sample.text_message(CONTACT, "Oi")]))
    assert whatsapp.post(body).status_code >= 500
    time.sleep(1.0)
    assert whatsapp.replies() == []
    stack.set_grants(None)
    assert whatsapp.post(body).status_code == 200  # the provider's redelivery
    assert len(whatsapp.wait_replies(2)) == 2


def test_a_function_reads_only_its_declared_secrets(stack):
    """The webhook's container is scoped to its own secrets: the send token is not one."""
    health = requests.get(f"{stack.functions_url}/_health", timeout=10).json()
    assert "whatsapp_webhook" in health["functions"]
    declared = grants()
    assert "WHATSAPP_ACCESS_TOKEN" not in declared["whatsapp_webhook"]["secrets"]
    assert "WHATSAPP_ACCESS_TOKEN" in declared["send_outbound"]["secrets"]
    assert (stack.grants_file).exists()
