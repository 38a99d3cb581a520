"""The `atende` CLI against the running stack, as a developer uses it after `make dev`."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from atende.conversation.simple_flow import GREETING, TRIAGE_QUESTION

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
