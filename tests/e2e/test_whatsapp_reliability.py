"""What the stack does when things go wrong: forged input, provider errors, crashes."""

import time

import pytest

from atende.channels.graph.signature import signature_for
from atende.channels.whatsapp import sample
from atende.tenants.tenant_config import DEFAULT_CONFIG

GREETING = DEFAULT_CONFIG.messages.greeting
TRIAGE_QUESTION = DEFAULT_CONFIG.messages.triage_question


CONTACT = "5511999990000"


def delivery(text="Oi", message_id=None):
    return sample.encode(
        sample.delivery(
            [sample.text_message(CONTACT, text, message_id=message_id, timestamp=1_800_000_000)]
        )
    )


def queue_size(stack, queue):
    return stack.tasks.count_tasks(stack.tasks.queue_path(queue))


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "sha1=abc", signature_for(b"other body", "e2e-app-secret")],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_enqueued(whatsapp, stack, signature):
    response = whatsapp.post(delivery(), signature=signature)
    assert response.status_code == 401
    assert queue_size(stack, stack.config.inbound_queue) == 0
    time.sleep(1.5)
    assert whatsapp.session(CONTACT) is None and whatsapp.replies() == []


def test_a_2_mib_body_is_refused_with_413(whatsapp, stack):
    body = b'{"object":"whatsapp_business_account","pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert whatsapp.post(body).status_code == 413
    assert queue_size(stack, stack.config.inbound_queue) == 0


def test_a_signed_body_that_is_not_json_is_a_bad_request(whatsapp):
    assert whatsapp.post(b"<xml/>").status_code == 400


def test_an_unknown_phone_number_id_is_acknowledged_and_not_processed(whatsapp, stack):
    body = sample.encode(
        sample.delivery([sample.text_message(CONTACT, "Oi")], phone_number_id="999999")
    )
    assert whatsapp.post(body).status_code == 200
    time.sleep(2)
    assert whatsapp.session(CONTACT) is None and whatsapp.replies() == []


def test_provider_500_twice_then_200_delivers_once_and_the_record_shows_the_attempts(
    whatsapp, stack
):
    stack.sandbox.script([{"status": 500, "body": {"error": {"code": 2, "message": "x"}}}] * 2)
    whatsapp.say(CONTACT, "Oi")
    replies = whatsapp.wait_replies(4)  # 3 tries for the greeting, 1 for the question
    delivered = [r for r in whatsapp.stack.sandbox.requests() if r["status"] == 200]
    assert [r["json"]["text"]["body"] for r in delivered] == [GREETING, TRIAGE_QUESTION]
    assert len(replies) == 4
    greeting = whatsapp.outbox()[0]
    assert greeting["status"] == "sent" and greeting["attempts"] == 3
    assert [(h["status"], h["attempt"]) for h in greeting["history"]][-3:] == [
        ("retrying", 1),
        ("retrying", 2),
        ("sent", 3),
    ]


def test_provider_400_marks_the_record_failed_without_retrying(whatsapp, stack):
    stack.sandbox.script(
        [{"status": 400, "body": {"error": {"code": 131047, "message": "Re-engagement message"}}}]
    )
    whatsapp.say(CONTACT, "Oi")
    requests_seen = whatsapp.wait_replies(2, settle=3.0)
    assert len(requests_seen) == 2  # the failed greeting once, then the question
    greeting, question = whatsapp.outbox()
    assert (greeting["status"], greeting["attempts"], greeting["last_error"]) == (
        "failed",
        1,
        "meta_131047",
    )
    assert question["status"] == "sent"
    # Audited: the failure. The success is in the question's outbox record's history.
    outcomes = [a["detail"].get("outcome") for a in whatsapp.audit() if a["kind"] == "send_outcome"]
    assert outcomes == ["failed"]


def test_the_breaker_opens_after_repeated_failures_and_sends_stop_until_it_half_opens(
    whatsapp, stack
):
    stack.sandbox.script([{"status": 503, "body": {}}] * 50)
    whatsapp.say(CONTACT, "Oi")
    stack.sandbox.wait_for_requests(4, timeout=30)  # fail_max = 4 failures open it
    time.sleep(2.5)
    assert len(stack.sandbox.requests()) == 4  # open: the queue keeps retrying, nothing goes out
    stack.sandbox.clear()  # the provider recovers
    replies = whatsapp.wait_replies(2, timeout=30)  # after reset_timeout, the trial call passes
    assert [r["text"]["body"] for r in replies] == [GREETING, TRIAGE_QUESTION]
    assert [r["status"] for r in whatsapp.outbox()] == ["sent", "sent"]
