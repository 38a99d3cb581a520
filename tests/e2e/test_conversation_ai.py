"""The AI step on the whole local stack, against the local OpenAI-compatible sandbox."""

import json

from atende.tenants.tenant_config import DEFAULT_CONFIG

M = DEFAULT_CONFIG.messages
CONTACT = "5511999990000"


def ai_decisions(whatsapp) -> list[dict]:
    entries = sorted(whatsapp.audit(), key=lambda entry: entry["at"])
    return [e["detail"] for e in entries if e["kind"] == "ai_decision"]


def test_the_ai_answers_free_text_and_never_sees_the_contacts_personal_data(whatsapp):
    whatsapp.set_tenant(ai={"enabled": True, "prompt": "Loja de roupas."})
    whatsapp.say(CONTACT, "Oi")
    whatsapp.wait_replies(2, settle=0.2)
    whatsapp.say(CONTACT, "Meu e-mail é ana@example.com, vocês têm camisa azul?",
                 start=1_800_000_010)  # fmt: skip
    whatsapp.wait_replies(3, settle=1.0)

    answer = whatsapp.replies_to(CONTACT)[-1]
    assert answer.startswith("(IA local) ")
    [decision] = ai_decisions(whatsapp)
    assert decision["outcome"] == "used" and decision["next_state"] == "waiting_user"
    assert whatsapp.session(CONTACT)["state"] == "waiting_user"
    sent_to_ai = json.dumps(whatsapp.stack.ai_sandbox.bodies(), ensure_ascii=False)
    assert "ana@example.com" not in sent_to_ai and CONTACT not in sent_to_ai
    assert "[email]" in sent_to_ai


def test_an_ai_failure_falls_back_to_the_deterministic_reply_and_the_conversation_goes_on(
    whatsapp,
):
    whatsapp.set_tenant(ai={"enabled": True})
    whatsapp.say(CONTACT, "Oi")
    whatsapp.wait_replies(2, settle=0.2)
    whatsapp.stack.ai_sandbox.script([{"status": 500}, {"status": 500}])
    whatsapp.say(CONTACT, "Quais tamanhos vocês têm?", start=1_800_000_010)
    whatsapp.wait_replies(3, settle=1.0)
    assert whatsapp.replies_to(CONTACT)[-1] == M.default_answer
    assert ai_decisions(whatsapp) == [{"outcome": "fallback", "reason": "http_5xx"}]

    whatsapp.stack.ai_sandbox.script(
        [{"reply": {"reply": "Garantimos reembolso em dobro!", "next_state": "waiting_user",
                    "handoff": False, "confidence": 0.95}}]
    )  # fmt: skip
    whatsapp.set_tenant(ai={"enabled": True}, prohibited_patterns=[r"reembolso em dobro"])
    whatsapp.say(CONTACT, "E se não servir?", start=1_800_000_020)
    whatsapp.wait_replies(4, settle=1.0)
    assert whatsapp.replies_to(CONTACT)[-1] == M.default_answer
    assert ai_decisions(whatsapp)[-1] == {"outcome": "fallback", "reason": "prohibited_promise"}
    assert len(whatsapp.stack.ai_sandbox.requests()) == 3  # one retry on 500, then one call
