"""The agent API as deployed (functions/agent_reply through the composition root) against the
Firestore emulator, called with the headers exactly as Cloud Run hands them to the code in
each mode: public (the agent token in Authorization) and private (Cloud Run checked the CRM's
Google ID token in X-Serverless-Authorization and removed its signature)."""

from __future__ import annotations

import base64
import json
import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.integration.uow_steps import steps_admit, steps_answer

from atende.adapters.checkpoints import NoCheckpoints
from atende.adapters.firestore.agent_tokens import FirestoreAgentTokens, register_dev_token
from atende.adapters.firestore.tenant_store import FirestoreTenantStore
from atende.adapters.firestore.unit_of_work import FirestoreUnitsOfWork
from atende.bootstrap import Container, reset_container
from atende.config import Settings
from atende.conversation.engine import ConversationEngine
from atende.devstack.functions_app import build_app
from atende.devstack.processes import serve_in_thread
from atende.domain import keys
from atende.domain.events import MessageKind, MessageReceived
from atende.observability.logging import configure_logging
from atende.process_inbound.decisions import DecisionContext, admit_message, answer_inbox

REPO = Path(__file__).resolve().parents[2]
PROJECT = "atende-it"  # the emulator project of conftest.py
CONTACT = "5511999990000"
DEMO_TOKEN = "atk_demo-crm-token-0123456789abcdefghijklmnopqrstu"


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Queue:
    def __init__(self) -> None:
        self.tasks: list[Any] = []

    def enqueue(self, task: Any) -> bool:
        self.tasks.append(task)
        return True


def id_token_as_cloud_run_forwards_it() -> str:
    """A Google ID token of the CRM's service account after Cloud Run verified it."""

    def segment(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {
        "iss": "https://accounts.google.com",
        "aud": "https://us-central1-p.cloudfunctions.net/agent_reply",
        "email": "crm@crm-project.iam.gserviceaccount.com",
        "email_verified": True,
        "exp": 2_000_000_000,
    }
    return (
        f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(claims)}.SIGNATURE_REMOVED_BY_GOOGLE"
    )


def hand_off(db: Any, tenant: str) -> str:
    """A conversation of `tenant` where the contact asked for a person; its session id."""
    store = FirestoreUnitsOfWork(db, Clock(), NoCheckpoints())
    config = FirestoreTenantStore(db, ttl_seconds=0).get(tenant)
    session = keys.session_id(tenant, "whatsapp", CONTACT)
    now = datetime.now(UTC)
    for index, text in enumerate(("Oi", "quero falar com um atendente")):
        event = MessageReceived(
            channel="whatsapp",
            event_id=f"wamid.{tenant}.{index}",
            account_id="106540352242922",
            contact_id=CONTACT,
            occurred_at=now + timedelta(seconds=index),
            message_id=f"wamid.{tenant}.{index}",
            kind=MessageKind.TEXT,
            text=text,
        )
        ctx = DecisionContext(
            tenant_id=tenant,
            session_id=session,
            now=now + timedelta(seconds=index),
            outbox_ttl=timedelta(days=30),
            dedupe_ttl=timedelta(days=7),
            hold=timedelta(0),
            tenant=config,
        )
        steps_admit(
            store,
            session,
            lambda current, e=event, c=ctx: admit_message(current, e, c.now, c),
        )
        steps_answer(
            store, session, lambda current, c=ctx: answer_inbox(current, ConversationEngine(), c)
        )
    return session


@pytest.fixture
def api(db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    functions = tmp_path / "functions"
    shutil.copytree(REPO / "functions" / "agent_reply", functions / "agent_reply")
    monkeypatch.chdir(tmp_path)  # no stray .env
    settings = Settings(project=PROJECT, secrets_backend="env", _env_file=None)
    container = Container(settings)
    queue = Queue()
    container._built.update(firestore=db, task_queue=queue)
    register_dev_token(db, DEMO_TOKEN, ["demo"], label="crm-demo")
    reset_container(container)
    try:
        with serve_in_thread(build_app(functions)) as base:
            yield {"url": f"{base}/agent_reply", "queue": queue}
    finally:
        reset_container(None)


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    configure_logging("INFO")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logging.getLogger().addHandler(handler)
    yield records
    logging.getLogger().removeHandler(handler)


def reply(session: str, tenant: str = "demo", request_id: str = "crm-1", **changes: Any) -> dict:
    return {
        "action": "reply",
        "tenant_id": tenant,
        "session_id": session,
        "request_id": request_id,
        "agent_id": "agent-7",
        "text": "Oi, sou a Ana!",
        **changes,
    }


def agent_outbox(db: Any) -> list[dict]:
    return [
        s.to_dict() for s in db.collection("outbox").stream() if s.to_dict()["origin"] == "agent"
    ]


def test_public_mode_the_agent_token_in_authorization_replies(db, api, logged):
    session = hand_off(db, "demo")
    answer = requests.post(
        api["url"],
        json=reply(session),
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied" and answer.json()["state"] == "handoff_human"
    assert [r["message"]["body"] for r in agent_outbox(db)] == ["Oi, sou a Ana!"]
    [handled] = [r for r in logged if r.getMessage() == "agent request handled"]
    assert handled.json_fields["agent_id"] == "agent-7"  # opaque, so logged
    assert not any(DEMO_TOKEN in repr(record.__dict__) for record in logged)


def test_private_mode_cloud_runs_id_token_and_the_agent_token_travel_side_by_side(db, api):
    session = hand_off(db, "demo")
    as_delivered = {
        "X-Serverless-Authorization": f"Bearer {id_token_as_cloud_run_forwards_it()}",
        "Authorization": f"Bearer {DEMO_TOKEN}",
    }
    answer = requests.post(api["url"], json=reply(session), headers=as_delivered, timeout=10)
    assert answer.status_code == 200, answer.text
    assert len(agent_outbox(db)) == 1


def test_private_mode_with_the_id_token_in_authorization_says_where_it_belongs(db, api):
    session = hand_off(db, "demo")
    # The CRM sent its ID token in Authorization: Cloud Run verified it, removed the
    # signature, and the agent token had nowhere to go.
    as_delivered = {"Authorization": f"Bearer {id_token_as_cloud_run_forwards_it()}"}
    answer = requests.post(api["url"], json=reply(session), headers=as_delivered, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"] == "id_token_in_authorization"
    assert "X-Serverless-Authorization" in answer.json()["detail"]
    assert answer.headers["www-authenticate"] == "Bearer"
    assert agent_outbox(db) == []


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "missing_token"),
        ({"X-Serverless-Authorization": "Bearer x.y.SIGNATURE_REMOVED_BY_GOOGLE"}, "missing_token"),
        ({"Authorization": "Bearer atk_never-issued"}, "unknown_token"),
    ],
)
def test_a_call_without_a_valid_agent_token_is_refused(db, api, headers, error):
    session = hand_off(db, "demo")
    answer = requests.post(api["url"], json=reply(session), headers=headers, timeout=10)
    assert answer.status_code == 401 and answer.json()["error"] == error
    assert agent_outbox(db) == []


def test_a_revoked_token_is_refused(db, api):
    session = hand_off(db, "demo")
    digest = register_dev_token(db, "atk_soon-revoked-0123456789", ["demo"]).token_hash
    FirestoreAgentTokens(db, Clock()).revoke(digest[:10])
    answer = requests.post(
        api["url"],
        json=reply(session),
        headers={"Authorization": "Bearer atk_soon-revoked-0123456789"},
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "revoked_token"
    assert agent_outbox(db) == []


def test_a_token_for_another_tenant_gets_403_and_changes_nothing(db, api, logged):
    hand_off(db, "demo")
    other = hand_off(db, "loja-2")
    before = db.collection("sessions").document(other).get().to_dict()
    answer = requests.post(
        api["url"],
        json=reply(other, tenant="loja-2"),
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 403 and answer.json()["error"] == "tenant_not_allowed"
    assert db.collection("sessions").document(other).get().to_dict() == before
    assert agent_outbox(db) == [] and api["queue"].tasks == []
    assert (
        not db.collection("dedupe").document(keys.agent_request_key("loja-2", "crm-1")).get().exists
    )
    [refusal] = [r for r in logged if r.getMessage() == "agent token refused for this tenant"]
    assert (
        refusal.json_fields["token_ref"]
        == FirestoreAgentTokens(db, Clock()).all()[0].token_hash[:12]
    )
    assert not any(DEMO_TOKEN in repr(record.__dict__) for record in logged)


def test_an_e_mail_as_agent_id_is_refused_with_400_and_changes_nothing(db, api):
    session = hand_off(db, "demo")
    answer = requests.post(
        api["url"],
        json=reply(session, agent_id="ana@loja.example"),
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_agent_id"
    assert "opaque id" in answer.json()["detail"]
    assert agent_outbox(db) == []
