"""Every messaging channel on the whole local stack: a signed delivery to its webhook is
answered through its own provider API (the sandbox), by the same engine."""

import importlib
import time

import pytest
import requests

from atende.tenants.config import DEFAULT_CONFIG

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
