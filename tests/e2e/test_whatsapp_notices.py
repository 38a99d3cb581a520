"""Events that are not someone writing to us, through the whole stack: a WhatsApp `revoke`
(the contact deleted a message) as the very first event of a contact gets no reply."""

from pathlib import Path

from atende.tenants.tenant_config import DEFAULT_CONFIG

DATA = Path(__file__).resolve().parents[1] / "data" / "whatsapp"
GREETING = DEFAULT_CONFIG.messages.greeting
TRIAGE_QUESTION = DEFAULT_CONFIG.messages.triage_question
CONTACT = "5511999990000"  # the contact of the documented fixtures


def test_a_revoke_as_the_first_event_is_recorded_and_gets_no_reply(whatsapp):
    revoke = (DATA / "message_revoke.json").read_bytes()
    assert whatsapp.post(revoke).status_code == 200

    session = whatsapp.wait_until(
        lambda: (s := whatsapp.session(CONTACT)) and s["messages"] and s,
        timeout=60,
        what="the revoke recorded in the session",
    )
    assert session["state"] == "new"
    assert [(m["kind"], m["author"]) for m in session["messages"]] == [("deleted", "contact")]
    assert any(
        entry["kind"] == "policy_decision" and entry["detail"].get("reason") == "message_deleted"
        for entry in whatsapp.audit()
    )
    # The answer hold has passed and the turn is committed: a reply would be on its way.
    assert whatsapp.wait_replies(0, settle=3.0) == []
    assert whatsapp.outbox() == []

    # The contact's first real message is greeted as a new conversation.
    whatsapp.say(CONTACT, "Oi")
    replies = whatsapp.wait_replies(2)
    assert [reply["text"]["body"] for reply in replies] == [GREETING, TRIAGE_QUESTION]
