"""The conversation engine on the whole local stack: a multi-turn conversation with a human
handoff and back, flood throttling, inactivity, opt-out and the agent API."""

import time

from atende.channels.whatsapp import sample
from atende.tenants.tenant_config import DEFAULT_CONFIG

M = DEFAULT_CONFIG.messages
CONTACT = "5511999990000"
OTHER = "5511988887777"
ORDER_PROMPT = "Qual é o número do seu pedido?"
ORDER_ANSWER = "Seu pedido sai para entrega em até 2 dias úteis."
EXCHANGE_ANSWER = "Você pode trocar em até 30 dias."

SHOP = {
    "faq": [
        {"keywords": ["pedido", "entrega"], "answer": ORDER_ANSWER, "queue": "logistica"},
        {"keywords": ["troca", "trocar"], "answer": EXCHANGE_ANSWER},
    ],
    "required_fields": [{"name": "order_number", "prompt": ORDER_PROMPT, "pattern": r"\d{4,12}"}],
}


def with_anything_else(answer: str) -> str:
    return f"{answer}\n\n{M.anything_else}"


def test_a_six_turn_conversation_goes_to_a_person_and_back_to_the_bot(whatsapp):
    whatsapp.set_tenant(**SHOP)
    start = 1_800_000_000

    whatsapp.say(CONTACT, "Oi", start=start)
    assert whatsapp.wait_replies(2, settle=0.5) and whatsapp.replies_to(CONTACT) == [
        M.greeting,
        M.triage_question,
    ]
    whatsapp.say(CONTACT, "Quero saber do meu pedido", start=start + 10)
    whatsapp.wait_replies(3, settle=0.5)
    whatsapp.say(CONTACT, "12345", start=start + 20)
    whatsapp.wait_replies(4, settle=0.5)
    whatsapp.say(CONTACT, "quero falar com um atendente", start=start + 30)
    whatsapp.wait_replies(5, settle=0.5)
    whatsapp.say(CONTACT, "alô? tem alguém aí?", start=start + 40)
    time.sleep(3)  # the bot stays silent in handoff: nothing new may arrive

    handoff = whatsapp.handoff(CONTACT)
    assert handoff["status"] == "waiting" and handoff["queue"] == "logistica"
    assert handoff["unread"] == 1 and handoff["tenant_id"] == "demo"

    reply = whatsapp.agent("reply", CONTACT, "crm-1", text="Oi! Sou a Ana, vou verificar.")
    assert reply.status_code == 200 and reply.json()["state"] == "handoff_human"
    whatsapp.wait_replies(6, settle=0.5)
    assert whatsapp.handoff(CONTACT)["unread"] == 0
    released = whatsapp.agent("release", CONTACT, "crm-2")
    assert released.status_code == 200 and released.json()["state"] == "waiting_user"
    whatsapp.wait_replies(7, settle=0.5)
    assert whatsapp.handoff(CONTACT)["status"] == "released"

    whatsapp.say(CONTACT, "E se eu quiser trocar?", start=start + 60)
    whatsapp.wait_replies(8)

    assert whatsapp.replies_to(CONTACT) == [
        M.greeting,
        M.triage_question,
        ORDER_PROMPT,
        with_anything_else(ORDER_ANSWER),
        M.handoff_notice,
        "Oi! Sou a Ana, vou verificar.",
        M.handback,
        with_anything_else(EXCHANGE_ANSWER),
    ]
    session = whatsapp.session(CONTACT)
    assert session["collected"] == {"order_number": "12345"}
    assert [(t["source"], t["target"], t["reason"]) for t in session["transitions"]] == [
        ("new", "triage", "greeted"),
        ("triage", "collecting_info", "required_fields"),
        ("collecting_info", "answering", "fields_collected:faq"),
        ("answering", "waiting_user", "answered"),
        ("waiting_user", "handoff_human", "handoff_keyword"),
        ("handoff_human", "waiting_user", "agent_handed_back"),
        ("waiting_user", "answering", "answer:faq"),
        ("answering", "waiting_user", "answered"),
    ]
    audit = whatsapp.audit()
    transitions = sorted(
        (e["detail"]["from"], e["detail"]["to"]) for e in audit if e["kind"] == "state_transition"
    )
    assert transitions == sorted((t[0], t[1]) for t in [
        ("new", "triage"), ("triage", "collecting_info"), ("collecting_info", "answering"),
        ("answering", "waiting_user"), ("waiting_user", "handoff_human"),
        ("handoff_human", "waiting_user"), ("waiting_user", "answering"),
        ("answering", "waiting_user"),
    ])  # fmt: skip
    actions = sorted(e["detail"]["action"] for e in audit if e["kind"] == "agent_action")
    assert actions == ["release", "reply"]
    assert all(e["detail"]["agent"] == "agent-7" for e in audit if e["kind"] == "agent_action")
    policies = [(e["detail"]["policy"], e["detail"]["outcome"]) for e in audit
                if e["kind"] == "policy_decision"]  # fmt: skip
    assert ("handoff", "bot_silent") in policies and ("routing", "logistica") in policies
    assert [e["kind"] for e in audit].count("handoff") == 1
    assert [r["status"] for r in whatsapp.outbox()] == ["sent"] * 8
    assert {r["origin"] for r in whatsapp.outbox()} == {"bot", "agent"}


def test_a_flood_from_one_contact_is_throttled_and_other_contacts_are_unaffected(whatsapp):
    whatsapp.set_tenant(abuse={"flood_limit": 3, "flood_window_seconds": 60})
    flood = [
        sample.encode(
            sample.delivery(
                [sample.text_message(CONTACT, f"mensagem {n}", timestamp=1_800_000_000 + n)]
            )
        )
        for n in range(8)
    ]
    assert whatsapp.post_concurrently(flood, stagger=0.05) == [200] * 8
    whatsapp.say(OTHER, "Oi", start=1_800_000_003)
    whatsapp.wait_until(
        lambda: len(whatsapp.replies_to(OTHER)) == 2 and len(whatsapp.replies_to(CONTACT)) >= 5,
        timeout=90,
        what="the flood's answers",
    )
    time.sleep(3)  # nothing more may come

    assert whatsapp.replies_to(OTHER) == [M.greeting, M.triage_question]
    flooded = whatsapp.replies_to(CONTACT)
    assert flooded == [M.greeting, M.triage_question, M.default_answer, M.default_answer,
                       M.abuse_notice]  # fmt: skip
    session = whatsapp.session(CONTACT)
    assert len([m for m in session["messages"] if m["author"] == "contact"]) == 8  # all kept
    assert session["abuse"]["reason"] == "flood" and session["abuse"]["cooldown_until"]
    abuse = [e["detail"] for e in whatsapp.audit()
             if e["kind"] == "policy_decision" and e["detail"]["policy"] == "abuse"]  # fmt: skip
    assert sorted(d["outcome"] for d in abuse) == ["cooldown"] + ["ignored"] * 4
    assert whatsapp.session(OTHER)["abuse"]["cooldown_until"] is None


def test_an_idle_conversation_is_closed_and_a_new_message_reopens_it(whatsapp):
    whatsapp.set_tenant(idle_timeout_seconds=3)
    whatsapp.say(CONTACT, "Oi")
    whatsapp.wait_until(lambda: len(whatsapp.replies_to(CONTACT)) == 3, timeout=60,
                        what="the idle close")  # fmt: skip
    assert whatsapp.replies_to(CONTACT)[-1] == M.idle_close
    session = whatsapp.session(CONTACT)
    assert session["state"] == "closed"
    assert session["transitions"][-1]["reason"] == "idle_timeout"

    whatsapp.say(CONTACT, "Voltei, preciso de ajuda", start=1_800_000_100)
    whatsapp.wait_until(lambda: len(whatsapp.replies_to(CONTACT)) == 5, timeout=60,
                        what="the reopened conversation's answer")  # fmt: skip
    assert whatsapp.replies_to(CONTACT)[3:] == [M.welcome_back, M.default_answer]
    session = whatsapp.session(CONTACT)
    assert [t["reason"] for t in session["transitions"]][-4:] == [
        "idle_timeout", "reopened", "answer:default", "answered",
    ]  # fmt: skip
    contact_texts = [m["text"] for m in session["messages"] if m["author"] == "contact"]
    assert contact_texts == ["Oi", "Voltei, preciso de ajuda"]  # the history survived


def test_after_an_opt_out_no_automated_message_is_sent_until_the_contact_writes_again(whatsapp):
    whatsapp.set_tenant(idle_timeout_seconds=3)
    whatsapp.say(CONTACT, "Oi")
    whatsapp.wait_replies(2, settle=0.2)
    whatsapp.say(CONTACT, "PARAR", start=1_800_000_010)
    whatsapp.wait_until(
        lambda: whatsapp.session(CONTACT)["state"] == "closed", timeout=60, what="the idle close"
    )
    time.sleep(2)
    # The confirmation went out; the idle closing message was written but not sent.
    assert whatsapp.replies_to(CONTACT) == [M.greeting, M.triage_question, M.opt_out_confirmation]
    statuses = [(r["origin"], r["status"]) for r in whatsapp.outbox()]
    assert statuses[-1] == ("bot", "suppressed") and ("notice", "sent") in statuses

    whatsapp.say(CONTACT, "Oi de novo", start=1_800_000_100)
    whatsapp.wait_until(lambda: len(whatsapp.replies_to(CONTACT)) == 5, timeout=60,
                        what="answers after writing again")  # fmt: skip
    assert whatsapp.session(CONTACT)["opted_out"] is False


def test_the_agent_api_refuses_bad_calls_and_applies_a_retried_request_once(whatsapp):
    whatsapp.say(CONTACT, "Oi")
    whatsapp.wait_replies(2, settle=0.2)

    assert whatsapp.agent("reply", CONTACT, "r-1", text="x", token="wrong").status_code == 401
    assert whatsapp.agent("reply", OTHER, "r-2", text="x").status_code == 404
    refused = whatsapp.agent("release", CONTACT, "r-3")  # the bot has it: nothing to release
    assert refused.status_code == 409 and refused.json()["error"] == "invalid_transition"
    blank = whatsapp.agent("reply", CONTACT, "r-4", text="   ")
    assert blank.status_code == 400 and "non-empty" in blank.json()["detail"]
    assert whatsapp.agent("shout", CONTACT, "r-5", text="x").status_code == 400

    first = whatsapp.agent("reply", CONTACT, "r-6", text="Sou o Rui, da equipe.")
    again = whatsapp.agent("reply", CONTACT, "r-6", text="Sou o Rui, da equipe.")
    assert (first.json()["outcome"], again.json()["outcome"]) == ("applied", "duplicate")
    whatsapp.wait_replies(3, settle=2.0)
    assert whatsapp.replies_to(CONTACT)[-1] == "Sou o Rui, da equipe."
    assert whatsapp.session(CONTACT)["state"] == "handoff_human"  # the agent took over
    resolved = whatsapp.agent("resolve", CONTACT, "r-7")
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    assert whatsapp.handoff(CONTACT)["status"] == "resolved"
