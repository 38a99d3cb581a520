"""A reply whose sends keep failing until its task's last attempt is not lost: it becomes a
dead letter, the next reply goes out, `atende dead-letters list` shows it, and once the
provider is back `atende dead-letters replay` sends it exactly once."""

import json
import os
import subprocess
import sys
import time

import pytest

from atende.tenants.tenant_config import DEFAULT_CONFIG

GREETING = DEFAULT_CONFIG.messages.greeting
TRIAGE_QUESTION = DEFAULT_CONFIG.messages.triage_question
CONTACT = "5511977776666"
OUTBOUND_MAX_ATTEMPTS = 3


def atende(stack, tmp_path, *args):
    env = {**os.environ, **stack.client_env}
    return subprocess.run(
        [sys.executable, "-m", "atende.cli.main", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip


@pytest.fixture
def few_send_attempts(stack):
    """The functions as they run with an outbound queue of 3 attempts (one provider try per
    attempt, no breaker in the way), so the last attempt comes within a second or two."""
    stack.restart_functions(
        {
            "ATENDE_OUTBOUND_MAX_ATTEMPTS": str(OUTBOUND_MAX_ATTEMPTS),
            "ATENDE_SEND_MAX_TRIES": "1",
            "ATENDE_BREAKER_FAIL_MAX": "100",
        }
    )
    yield
    stack.restart_functions()


def delivered(stack):
    return [
        r["json"]["text"]["body"]
        for r in stack.sandbox.requests()
        if r["status"] == 200 and "text" in r.get("json", {})
    ]


def test_a_send_failing_until_its_last_attempt_is_dead_lettered_listed_and_replayed_once(
    whatsapp, stack, tmp_path, few_send_attempts
):
    # The provider fails every try of the greeting's three attempts, then is healthy again.
    failure = {"status": 500, "body": {"error": {"code": 2, "message": "Service unavailable"}}}
    stack.sandbox.script([failure] * OUTBOUND_MAX_ATTEMPTS)
    whatsapp.say(CONTACT, "Oi")

    def dead_letters():
        return [s.to_dict() for s in whatsapp.db.collection("dead_letters").stream()]

    whatsapp.wait_until(dead_letters, timeout=60, what="a dead letter")
    # The stuck greeting no longer holds the conversation: the next reply went out.
    whatsapp.wait_until(lambda: TRIAGE_QUESTION in delivered(stack), timeout=30,
                        what="the next reply")  # fmt: skip
    assert GREETING not in delivered(stack)
    greeting = next(r for r in whatsapp.outbox() if r["status"] == "dead_lettered")

    listed = atende(stack, tmp_path, "dead-letters", "list", "--json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    [letter] = json.loads(listed.stdout)
    assert letter["function"] == "send_outbound" and letter["kind"] == "send"
    assert letter["outbox_id"] == greeting["id"] and letter["status"] == "open"
    assert letter["attempts"] == OUTBOUND_MAX_ATTEMPTS and letter["tenant_id"] == "demo"
    assert letter["error"] == "meta_2"  # Meta's transient error code 2, as classified
    assert letter["first_attempt_at"] and letter["last_attempt_at"]
    assert GREETING not in listed.stdout  # ids and codes only

    # The greeting's dead letter is its own (the turn's task also held the question, which
    # went out): its replay task is named after the turn's task, the greeting and the replay.
    assert letter["task_name"].startswith("out-") and letter["outbox_id"] == greeting["id"]
    replay_name = f"{letter['task_name']}-m{letter['id'][:12]}-replay-1"
    replayed = atende(stack, tmp_path, "dead-letters", "replay", "--all")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert replay_name in replayed.stdout
    whatsapp.wait_until(lambda: GREETING in delivered(stack), timeout=30, what="the replay")
    # Replaying again enqueues nothing new, and the greeting went out exactly once.
    assert "no open dead letters" in atende(stack, tmp_path, "dead-letters", "replay",
                                            "--all").stdout  # fmt: skip
    time.sleep(2)
    assert delivered(stack).count(GREETING) == 1
    assert delivered(stack).count(TRIAGE_QUESTION) == 1
    [after] = json.loads(atende(stack, tmp_path, "dead-letters", "list", "--json").stdout)
    assert after["status"] == "replayed" and after["replay_task_names"] == [replay_name]
    record = next(r for r in whatsapp.outbox() if r["id"] == greeting["id"])
    assert record["status"] == "sent"
