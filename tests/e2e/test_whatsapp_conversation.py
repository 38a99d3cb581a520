"""A signed WhatsApp delivery travels webhook → Tasks → processing → outbound → sandbox."""

from atende.channels.whatsapp import sample
from atende.tenants.tenant_config import DEFAULT_CONFIG

FOLLOW_UP = DEFAULT_CONFIG.messages.default_answer
GREETING = DEFAULT_CONFIG.messages.greeting
HANDOFF_NOTICE = DEFAULT_CONFIG.messages.handoff_notice
TRIAGE_QUESTION = DEFAULT_CONFIG.messages.triage_question


CONTACT = "5511999990000"


def texts(replies):
    return [reply["text"]["body"] for reply in replies]


def test_a_new_contact_is_greeted_then_handed_off_on_the_keyword(whatsapp):
    whatsapp.say(CONTACT, "Oi")
    assert texts(whatsapp.wait_replies(2)) == [GREETING, TRIAGE_QUESTION]
    whatsapp.say(CONTACT, "quero falar com um atendente", start=1_800_000_010)
    replies = whatsapp.wait_replies(3)
    assert texts(replies)[2] == HANDOFF_NOTICE
    assert {reply["to"] for reply in replies} == {CONTACT}
    whatsapp.say(CONTACT, "alô?", start=1_800_000_020)
    assert len(whatsapp.wait_replies(3)) == 3  # silent in handoff

    session = whatsapp.session(CONTACT)
    assert session["state"] == "handoff_human"
    assert [m["text"] for m in session["messages"] if m["author"] == "contact"] == [
        "Oi",
        "quero falar com um atendente",
        "alô?",
    ]
    assert session["inbox"] == []
    records = whatsapp.outbox()
    assert [r["status"] for r in records] == ["sent"] * 3
    assert all(r["provider_message_id"].startswith("wamid.sandbox") for r in records)
    kinds = sorted(entry["kind"] for entry in whatsapp.audit())
    assert kinds.count("state_transition") == 2 and kinds.count("handoff") == 1
    # A send that succeeded is in its outbox record's history (claimed, then sent), not in
    # a separate audit entry: only failures, holds and suppressions are audited.
    assert all([h["status"] for h in r["history"]] == ["sending", "sent"] for r in records)
    assert kinds.count("send_outcome") == 0


def test_the_same_delivery_posted_five_times_is_answered_once(whatsapp):
    body = sample.encode(
        sample.delivery([sample.text_message(CONTACT, "Oi", message_id="wamid.same")])
    )
    for _ in range(5):
        assert whatsapp.post(body).status_code == 200
    replies = whatsapp.wait_replies(2, settle=4.0)
    assert texts(replies) == [GREETING, TRIAGE_QUESTION]
    assert len({reply["biz_opaque_callback_data"] for reply in replies}) == 2
    assert len([m for m in whatsapp.session(CONTACT)["messages"] if m["author"] == "contact"]) == 1


def test_two_messages_in_one_delivery_are_stored_and_answered_in_order(whatsapp):
    messages = [
        sample.text_message(CONTACT, "Oi", message_id="wamid.1", timestamp=1_800_000_000),
        sample.text_message(
            CONTACT, "meu pedido atrasou", message_id="wamid.2", timestamp=1_800_000_001
        ),
    ]
    assert whatsapp.post(sample.encode(sample.delivery(messages))).status_code == 200
    assert texts(whatsapp.wait_replies(3)) == [GREETING, TRIAGE_QUESTION, FOLLOW_UP]
    assert [m["id"] for m in whatsapp.session(CONTACT)["messages"] if m["author"] == "contact"] == [
        "wamid.1",
        "wamid.2",
    ]


def test_two_messages_posted_together_in_the_wrong_order_are_answered_in_the_right_one(whatsapp):
    first = sample.text_message(CONTACT, "Oi", message_id="wamid.first", timestamp=1_800_000_000)
    second = sample.text_message(
        CONTACT, "meu pedido atrasou", message_id="wamid.second", timestamp=1_800_000_001
    )
    # The later message reaches us first: its task runs first.
    bodies = [sample.encode(sample.delivery([second])), sample.encode(sample.delivery([first]))]
    assert whatsapp.post_concurrently(bodies, stagger=0.05) == [200, 200]
    replies = whatsapp.wait_replies(3)
    assert texts(replies) == [GREETING, TRIAGE_QUESTION, FOLLOW_UP]
    assert [m["id"] for m in whatsapp.session(CONTACT)["messages"] if m["author"] == "contact"] == [
        "wamid.first",
        "wamid.second",
    ]
    answered_by = {r["id"]: r["inbound_event_id"] for r in whatsapp.outbox()}
    assert [answered_by[reply["biz_opaque_callback_data"]] for reply in replies] == [
        "wamid.first",
        "wamid.first",
        "wamid.second",
    ]


def test_status_webhooks_update_the_outbox_record_they_refer_to(whatsapp):
    whatsapp.say(CONTACT, "Oi")
    first = whatsapp.wait_replies(2)[0]
    record_id = first["biz_opaque_callback_data"]
    wamid = next(r for r in whatsapp.outbox() if r["id"] == record_id)["provider_message_id"]
    for status in ("delivered", "read", "delivered"):  # a late "delivered" must not win
        delivery = sample.status_delivery(wamid, status, CONTACT, timestamp=1_800_000_100)
        assert whatsapp.post(sample.encode(delivery)).status_code == 200

    def read_record():
        records = [r for r in whatsapp.outbox() if r["id"] == record_id]
        return records[0] if records[0].get("delivery_status") == "message_read" else None

    record = whatsapp.wait_until(read_record, timeout=20, what="the read status")
    assert record["delivery_status"] == "message_read"
    assert record["status"] == "sent"


def test_the_handshake_echoes_the_challenge_for_our_verify_token(whatsapp, stack):
    import requests

    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": stack.config.whatsapp_verify_token,
        "hub.challenge": "1158201444",
    }
    assert requests.get(whatsapp.url, params=params, timeout=10).text == "1158201444"
    params["hub.verify_token"] = "wrong"
    assert requests.get(whatsapp.url, params=params, timeout=10).status_code == 403
