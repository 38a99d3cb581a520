"""Every messaging channel on the whole local stack: a signed delivery to its webhook is
answered through its own provider API (the sandbox), by the same engine."""

import importlib
import time

import pytest
import requests

from atende.tenants.tenant_config import DEFAULT_CONFIG

M = DEFAULT_CONFIG.messages


class StackSecrets:
    """The stack's dev secrets, as the simulator reads them."""

    def __init__(self, env):
        self.env = env

    def get(self, name):
        return self.env.get(name)


def post(stack, channel, text, contact):
    sample = importlib.import_module(f"atende.channels.{channel}.sample")
    delivery = sample.simulated_delivery(text, contact, StackSecrets(stack.client_env))
    return requests.request(
        delivery.method,
        stack.function_url(f"{channel}_webhook"),
        data=delivery.body,
        headers=delivery.headers,
        params=delivery.query,
        timeout=30,
    )


def reply_texts(whatsapp, provider):
    texts = []
    for request in whatsapp.stack.sandbox.requests():
        body = request.get("json") or {}
        if provider == "discord":
            texts.append(body.get("content"))
        else:
            texts.append((body.get("message") or {}).get("text"))
    return texts


@pytest.mark.parametrize(
    ("channel", "contact", "path_part"),
    [
        ("messenger", "6254112394618451", "/graph/v23.0/"),
        ("instagram", "1254459154682919", "/graph/v23.0/"),
        ("discord", "53908232506183680", "/discord/api/v10/webhooks/"),
    ],
)
def test_a_new_contact_is_greeted_on_its_own_channel(whatsapp, channel, contact, path_part):
    answer = post(whatsapp.stack, channel, "Oi", contact)
    assert answer.status_code == 200
    if channel == "discord":
        assert answer.json() == {"type": 5}  # deferred: the follow-up carries the answer
    whatsapp.wait_replies(2, settle=1.0)
    requests_seen = whatsapp.stack.sandbox.requests()
    assert all(path_part in r["path"] for r in requests_seen)
    assert reply_texts(whatsapp, channel) == [M.greeting, M.triage_question]
    [session] = [snap.to_dict() for snap in whatsapp.db.collection("sessions").stream()]
    assert session["channel"] == channel and session["contact_id"] == contact
    records = whatsapp.outbox()
    assert {r["channel"] for r in records} == {channel}
    assert [r["status"] for r in records] == ["sent", "sent"]


def test_a_forged_delivery_is_refused_on_every_channel(whatsapp):
    for channel in ("messenger", "instagram", "discord"):
        sample = importlib.import_module(f"atende.channels.{channel}.sample")
        delivery = sample.simulated_delivery("Oi", "123", StackSecrets(whatsapp.stack.client_env))
        forged = delivery.body.replace(b"Oi", b"Ol")
        answer = requests.post(
            whatsapp.stack.function_url(f"{channel}_webhook"),
            data=forged,
            headers=delivery.headers,
            timeout=30,
        )
        assert answer.status_code == 401, channel
    time.sleep(2)
    assert whatsapp.stack.sandbox.requests() == []
    assert list(whatsapp.db.collection("sessions").stream()) == []


def audit_kinds(whatsapp):
    return sorted(entry["kind"] for entry in whatsapp.audit())


@pytest.mark.parametrize(
    ("channel", "kind"),
    [("youtube", "content_published"), ("linkedin", "comment"), ("tiktok", "comment")],
)
def test_a_notification_is_recorded_once_and_nobody_is_answered(whatsapp, channel, kind):
    delivery_answer = post(whatsapp.stack, channel, "Lançamento da coleção", "ignored")
    assert delivery_answer.status_code == 200
    whatsapp.wait_until(lambda: kind in audit_kinds(whatsapp), timeout=30, what="the audit")
    time.sleep(1.5)
    assert audit_kinds(whatsapp) == [kind]
    assert whatsapp.stack.sandbox.requests() == []  # no reply to anyone


def test_youtube_confirms_only_our_topics_and_the_renewal_job_subscribes_at_the_hub(whatsapp):
    from atende.channels.youtube.sample import DEV_CHANNEL_ID

    url = whatsapp.stack.function_url("youtube_webhook")
    topic = f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={DEV_CHANNEL_ID}"
    ours = {"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "c-123"}
    confirmed = requests.get(url, params=ours, timeout=10)
    assert confirmed.status_code == 200 and confirmed.text == "c-123"
    assert confirmed.headers["x-content-type-options"] == "nosniff"
    foreign = {**ours, "hub.topic": topic.replace(DEV_CHANNEL_ID, "UCsomeoneelse")}
    assert requests.get(url, params=foreign, timeout=10).status_code == 403

    job = requests.post(
        whatsapp.stack.function_url("youtube_renew"),
        headers={"x-atende-task-token": whatsapp.stack.config.task_secret},
        timeout=30,
    )
    assert job.status_code == 200 and job.json()["renewed"] == 1
    [subscribe] = whatsapp.stack.sandbox.requests()
    assert subscribe["path"] == "/youtube/subscribe" and subscribe["method"] == "POST"
    unauthenticated = requests.post(whatsapp.stack.function_url("youtube_renew"), timeout=30)
    assert unauthenticated.status_code == 401


def test_an_agent_answers_an_instagram_comment_in_its_thread_once(whatsapp):
    from atende.channels.instagram import sample
    from atende.channels.meta.deliveries import encode
    from atende.domain import keys

    stack = whatsapp.stack
    body = encode(
        sample.comment_delivery(
            "1254459154682919", "Tem no tamanho M?", comment_id="17895695668004550",
            media_id="17912345678901234",
        )
    )  # fmt: skip
    headers = sample.signed_headers(body, StackSecrets(stack.client_env))
    answer = requests.post(
        stack.function_url("instagram_webhook"), data=body, headers=headers, timeout=30
    )
    assert answer.status_code == 200
    comment_key = keys.comment_id("instagram", "demo", "17895695668004550")
    comments = whatsapp.db.collection("comments")
    whatsapp.wait_until(lambda: comments.document(comment_key).get().exists, timeout=30)
    stored = comments.document(comment_key).get().to_dict()
    assert stored["text"] == "Tem no tamanho M?" and stored["status"] == "new"
    assert stack.sandbox.requests() == []  # the bot never answers in public

    command = {
        "action": "comment_reply",
        "tenant_id": "demo",
        "comment_id": comment_key,
        "request_id": "crm-77",
        "agent_id": "agent-7",
        "text": "Temos sim! Te chamamos no direct.",
    }
    auth = {"authorization": f"Bearer {stack.config.agent_token}"}
    url = stack.function_url("agent_reply")
    first = requests.post(url, json=command, headers=auth, timeout=30)
    again = requests.post(url, json=command, headers=auth, timeout=30)
    assert first.status_code == 200, first.text
    assert (first.json()["outcome"], again.json()["outcome"]) == ("applied", "duplicate")
    settled = ("sent", "failed", "needs_review")
    whatsapp.wait_until(lambda: whatsapp.outbox() and whatsapp.outbox()[0]["status"] in settled,
                        timeout=30, what="the send to settle")  # fmt: skip
    assert whatsapp.outbox()[0]["status"] == "sent", whatsapp.outbox()
    [reply] = stack.sandbox.requests()
    assert reply["path"] == "/graph/v23.0/17895695668004550/replies"
    assert reply["json"]["message"] == "Temos sim! Te chamamos no direct."
    assert comments.document(comment_key).get().to_dict()["status"] == "replied"
