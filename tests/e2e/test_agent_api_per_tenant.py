"""Agent API tokens on the whole local stack: the fixture's token acts for `demo` only."""

import time

from atende.domain import keys

CONTACT = "5511999990000"


def test_a_demo_token_replies_for_demo_and_gets_403_for_another_tenants_session(whatsapp):
    whatsapp.say(CONTACT, "Oi", "quero falar com um atendente")
    whatsapp.wait_until(
        lambda: (whatsapp.session(CONTACT) or {}).get("state") == "handoff_human",
        timeout=60,
        what="the handoff",
    )
    # The same conversation under another tenant (as if a second shop's number received it).
    other_id = keys.session_id("loja-2", "whatsapp", CONTACT)
    copy = {**whatsapp.session(CONTACT), "id": other_id, "tenant_id": "loja-2"}
    whatsapp.db.collection("sessions").document(other_id).set(copy)
    time.sleep(1.0)
    sent_before = len(whatsapp.replies())

    refused = whatsapp.agent("reply", CONTACT, "crm-x", text="Oi, sou a Ana!", tenant="loja-2")
    assert refused.status_code == 403 and refused.json()["error"] == "tenant_not_allowed"
    time.sleep(2.0)  # an effect, had there been one, would show by now
    assert len(whatsapp.replies()) == sent_before
    assert whatsapp.db.collection("sessions").document(other_id).get().to_dict() == copy
    assert [r for r in whatsapp.outbox() if r["origin"] == "agent"] == []
    dedupe = whatsapp.db.collection("dedupe").document(keys.agent_request_key("loja-2", "crm-x"))
    assert not dedupe.get().exists
    assert not [e for e in whatsapp.audit() if e["kind"] == "agent_action"]

    answered = whatsapp.agent("reply", CONTACT, "crm-y", text="Oi, sou a Ana!")
    assert answered.status_code == 200 and answered.json()["state"] == "handoff_human"
    whatsapp.wait_until(
        lambda: "Oi, sou a Ana!" in whatsapp.replies_to(CONTACT), timeout=30, what="the reply"
    )
