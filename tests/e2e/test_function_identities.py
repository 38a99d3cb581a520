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


def test_without_its_outbound_grant_process_inbound_cannot_send_a_turns_replies(
    whatsapp, stack, declared_grants
):
    """The first review's finding was a grant the code needs and the declaration lacked.
    process_inbound enqueues each turn's send task: without `outbound` in its declaration,
    nothing is sent, and the answer is committed and kept (nothing lost)."""
    stack.set_grants(without("process_inbound", "outbound"))
    whatsapp.say(CONTACT, "Oi")
    whatsapp.wait_until(
        lambda: len(whatsapp.outbox()) == 2, timeout=30, what="the turn's two replies"
    )
    time.sleep(2.0)
    assert whatsapp.replies() == []
    log = (stack.run_dir / "tasks-emulator.log").read_text()
    assert "refused cloudtasks.tasks.create to identity process_inbound" in log
    assert sorted(record["status"] for record in whatsapp.outbox()) == ["pending", "pending"]

    # The grant comes back (a fixed deployment): the queue's retry enqueues the send task.
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
