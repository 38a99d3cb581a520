"""The functions process is killed (os._exit) between steps; the queue redelivers; the
contact still gets exactly one answer.

A crash inside a Firestore transaction leaves its locks behind until the transaction expires
(about a minute on the emulator), so these tests take a while: that is the real behaviour.
"""

import pytest

from atende.channels.whatsapp import sample
from atende.tenants.tenant_config import DEFAULT_CONFIG

GREETING = DEFAULT_CONFIG.messages.greeting
TRIAGE_QUESTION = DEFAULT_CONFIG.messages.triage_question


CONTACT = "5511999990000"


@pytest.mark.parametrize(
    "checkpoint",
    [
        "process.after_admit",
        "process.after_dedupe",
        "process.after_session_save",
        "process.after_outbox_write",
        "process.after_commit",
    ],
)
def test_a_crash_between_processing_steps_still_ends_in_exactly_one_answer(
    whatsapp, stack, checkpoint
):
    restarts = stack.functions.restarts
    whatsapp.crash_once_at(checkpoint)
    whatsapp.say(CONTACT, "Oi")
    replies = whatsapp.wait_replies(2, timeout=240, settle=3.0)
    assert [r["text"]["body"] for r in replies] == [GREETING, TRIAGE_QUESTION]
    assert stack.functions.restarts > restarts, "the crash did not happen"
    assert not whatsapp.fault_file.exists()
    session = whatsapp.session(CONTACT)
    assert [m["text"] for m in session["messages"] if m["author"] == "contact"] == [
        "Oi"
    ] and session["inbox"] == []
    assert [r["status"] for r in whatsapp.outbox()] == ["sent", "sent"]


def test_a_crash_after_the_provider_accepted_a_send_holds_it_for_review_instead_of_resending(
    whatsapp, stack
):
    whatsapp.crash_once_at("outbound.after_provider_accept")
    whatsapp.say(CONTACT, "Oi")
    replies = whatsapp.wait_replies(2, timeout=60, settle=3.0)
    # The greeting reached the provider once, and was not sent again after the crash.
    assert [r["text"]["body"] for r in replies] == [GREETING, TRIAGE_QUESTION]
    greeting, question = whatsapp.outbox()
    assert greeting["status"] == "needs_review" and question["status"] == "sent"
    assert any(entry["kind"] == "review_required" for entry in whatsapp.audit())

    # The provider's status webhook proves the send: the record is reconciled.
    status = sample.status_delivery(
        "wamid.unknown-to-us",
        "sent",
        CONTACT,
        callback_data=greeting["id"],
        timestamp=1_800_000_100,
    )
    assert whatsapp.post(sample.encode(status)).status_code == 200
    reconciled = whatsapp.wait_until(
        lambda: next(
            (r for r in whatsapp.outbox() if r["id"] == greeting["id"] and r["status"] == "sent"),
            None,
        ),
        timeout=20,
        what="the reconciled record",
    )
    assert reconciled["history"][-1]["detail"] == "confirmed_by_message_sent"
    assert len(whatsapp.replies()) == 2
