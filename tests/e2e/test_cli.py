"""The `atende` CLI against the running stack, as a developer uses it after `make dev`."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from atende.tenants.tenant_config import DEFAULT_CONFIG

GREETING = DEFAULT_CONFIG.messages.greeting
TRIAGE_QUESTION = DEFAULT_CONFIG.messages.triage_question


REPO = Path(__file__).resolve().parents[2]

CONTACT = "5511955554444"


def atende(stack, tmp_path, *args):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ATENDE_", "WHATSAPP_")) and key != "FIRESTORE_EMULATOR_HOST"
    }
    env.update(
        {
            "ATENDE_FUNCTIONS_BASE_URL": stack.functions_url,
            "ATENDE_SANDBOX_URL": stack.sandbox_url,
            "WHATSAPP_APP_SECRET": stack.config.whatsapp_app_secret,
            "FIRESTORE_EMULATOR_HOST": stack.firestore.host,
            "ATENDE_PROJECT": stack.config.project,
            "ATENDE_WHATSAPP_TENANTS": json.dumps(stack.config.whatsapp_tenants),
            "ATENDE_AGENT_API_TOKEN": getattr(stack.config, "agent_token", ""),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "atende.cli.main", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_simulate_prints_the_bots_reply_and_inspect_shows_the_session(whatsapp, stack, tmp_path):
    result = atende(stack, tmp_path, "simulate", "whatsapp", "--from", CONTACT, "--text", "Oi")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "webhook answered 200" in result.stdout
    assert f"bot → {CONTACT}: {GREETING}" in result.stdout
    assert f"bot → {CONTACT}: {TRIAGE_QUESTION}" in result.stdout

    shown = atende(stack, tmp_path, "inspect", "session", "--contact", CONTACT)
    assert shown.returncode == 0, shown.stderr
    session = json.loads(shown.stdout)
    assert session["session"]["state"] == "triage"
    assert [reply["status"] for reply in session["replies"]] == ["sent", "sent"]


def test_simulate_posts_a_payload_file_unchanged_and_reports_as_json(whatsapp, stack, tmp_path):
    fixture = REPO / "tests" / "data" / "whatsapp" / "message_text.json"
    result = atende(stack, tmp_path, "simulate", "whatsapp", "--payload", str(fixture), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == 200
    assert [reply["text"]["body"] for reply in report["outbound"]] == [GREETING, TRIAGE_QUESTION]


def test_simulate_says_plainly_when_the_stack_is_not_running(tmp_path):
    nowhere = SimpleNamespace(
        functions_url="http://127.0.0.1:9",
        sandbox_url="http://127.0.0.1:9",
        firestore=SimpleNamespace(host="127.0.0.1:9"),
        config=SimpleNamespace(project="p", whatsapp_tenants={}, whatsapp_app_secret="s"),
    )
    result = atende(nowhere, tmp_path, "simulate", "whatsapp", "--text", "Oi")
    assert result.returncode == 2
    assert "is `make dev` running" in result.stdout
    assert "Traceback" not in result.stderr


def test_inspect_without_a_session_says_so(whatsapp, stack, tmp_path: Path):
    result = atende(stack, tmp_path, "inspect", "session", "--contact", "5500000000000")
    assert result.returncode == 1
    assert "no session" in result.stdout


def test_tenant_set_validates_the_file_and_show_prints_what_is_stored(whatsapp, stack, tmp_path):
    missing = atende(stack, tmp_path, "tenant", "show", "demo")
    assert missing.returncode == 0 and "the defaults apply" in missing.stdout

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tenant_id": "demo", "abuse": {"flood_limit": 0}, "colour": 1}))
    refused = atende(stack, tmp_path, "tenant", "set", str(bad))
    assert refused.returncode == 2
    assert "abuse.flood_limit" in refused.stdout and "colour" in refused.stdout
    assert "the defaults apply" in atende(stack, tmp_path, "tenant", "show", "demo").stdout

    example = REPO / "docs" / "examples" / "tenant-demo.json"
    saved = atende(stack, tmp_path, "tenant", "set", str(example))
    assert saved.returncode == 0 and "saved the configuration of tenant demo" in saved.stdout
    shown = atende(stack, tmp_path, "tenant", "show", "demo")
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["default_queue"] == "geral"

    whatsapp.db.collection("tenants").document("demo").set({"idle_timeout_seconds": -1})
    broken = atende(stack, tmp_path, "tenant", "show", "demo")
    assert broken.returncode == 1 and "INVALID" in broken.stdout


def test_agent_commands_list_reply_to_and_release_a_waiting_conversation(whatsapp, stack, tmp_path):
    whatsapp.say(CONTACT, "Oi")
    whatsapp.say(CONTACT, "quero falar com uma pessoa", start=1_800_000_010)
    whatsapp.wait_replies(3, settle=0.5)

    listed = atende(stack, tmp_path, "agent", "list")
    assert listed.returncode == 0 and "queue=default" in listed.stdout
    replied = atende(
        stack, tmp_path, "agent", "reply", "--contact", CONTACT, "--text", "Olá! Sou o Rui."
    )
    assert replied.returncode == 0, replied.stdout + replied.stderr
    assert '"state": "handoff_human"' in replied.stdout
    released = atende(stack, tmp_path, "agent", "release", "--contact", CONTACT)
    assert released.returncode == 0 and '"state": "triage"' in released.stdout
    whatsapp.wait_replies(5, settle=0.5)
    assert whatsapp.replies_to(CONTACT)[-2:] == [
        "Olá! Sou o Rui.",
        DEFAULT_CONFIG.messages.handback,
    ]
    assert "no conversation" in atende(stack, tmp_path, "agent", "list").stdout

    refused = atende(stack, tmp_path, "agent", "release", "--contact", CONTACT)
    assert refused.returncode == 1 and "409" in refused.stdout


def test_simulate_drives_every_kind_of_channel(whatsapp, stack, tmp_path):
    def run(*args):
        env = {**os.environ, **stack.client_env, "ATENDE_SANDBOX_URL": stack.sandbox_url}
        return subprocess.run(
            [sys.executable, "-m", "atende.cli.main", "simulate", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90, check=False,
        )  # fmt: skip

    messenger = run("messenger", "--from", "6254112394618451", "--text", "Oi")
    assert messenger.returncode == 0, messenger.stdout + messenger.stderr
    assert f"bot → 6254112394618451: {GREETING}" in messenger.stdout
    comment = run("linkedin", "--text", "Parabéns pelo lançamento!")
    assert comment.returncode == 0 and "webhook answered 200" in comment.stdout
    alone = run("apple_calendar", "--from", "5511900001111", "--text", "Avaliação")
    assert alone.returncode == 1 and "needs a conversation first" in alone.stdout
    run("whatsapp", "--from", CONTACT, "--text", "Oi")
    booked = run("apple_calendar", "--from", CONTACT, "--text", "Avaliação")
    assert booked.returncode == 0, booked.stdout + booked.stderr
    assert f"bot → {CONTACT}: Seu agendamento (Avaliação) está confirmado" in booked.stdout
