"""Configuration an operator can fix is not a permanent failure: a reply whose channel token
is missing waits (the queue retries it) and goes out once the token is there, instead of
being marked failed for good."""

import pytest

from atende.tenants.tenant_config import DEFAULT_CONFIG

GREETING = DEFAULT_CONFIG.messages.greeting
TRIAGE_QUESTION = DEFAULT_CONFIG.messages.triage_question
CONTACT = "5511966665555"


@pytest.fixture
def restore_functions(stack):
    yield
    stack.restart_functions()


def test_a_reply_waits_for_a_missing_access_token_and_is_sent_once_it_is_set(
    whatsapp, stack, restore_functions
):
    stack.restart_functions({"WHATSAPP_ACCESS_TOKEN": None})  # the operator forgot it
    whatsapp.say(CONTACT, "Oi")

    def greeting_retrying():
        records = whatsapp.outbox()
        return records and records[0]["status"] == "retrying" and records

    [greeting, *_] = whatsapp.wait_until(greeting_retrying, timeout=30, what="a retried send")
    assert greeting["last_error"] == "configuration"
    assert whatsapp.replies() == []  # nothing reached the provider, nothing was lost

    stack.restart_functions()  # the token is set: the queue's next attempt sends
    replies = whatsapp.wait_replies(2, timeout=60)
    assert [reply["text"]["body"] for reply in replies] == [GREETING, TRIAGE_QUESTION]
    assert {record["status"] for record in whatsapp.outbox()} == {"sent"}
