"""Deterministic keys: dedupe, session, outbox and task names come from stable inputs only.

Never from time or a correlation id, so a redelivered event or task finds its work done.
"""

from __future__ import annotations

import hashlib

_SEPARATOR = "\x1f"


def stable_hash(*parts: str) -> str:
    """A sha256 hex digest of the parts, unambiguous about where one part ends."""
    joined = _SEPARATOR.join(parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def dedupe_key(channel: str, tenant_id: str, event_id: str) -> str:
    return stable_hash("dedupe", channel, tenant_id, event_id)


def inbound_task_id(channel: str, event_id: str) -> str:
    """Task id for one inbound event: a provider retry of the same event maps to the same id."""
    return "in-" + stable_hash("inbound", channel, event_id)


def session_id(tenant_id: str, channel: str, contact_id: str) -> str:
    """Hashed so the contact's phone number never appears in a document id or a log line."""
    return stable_hash("session", tenant_id, channel, contact_id)[:40]


def outbox_id(tenant_id: str, session: str, inbound_event_id: str, reply_index: int) -> str:
    return stable_hash("outbox", tenant_id, session, inbound_event_id, str(reply_index))[:40]


def answer_task_id(session: str, event_id: str) -> str:
    """Task id for answering a session once one message's hold has ended."""
    return "answer-" + stable_hash("answer", session, event_id)


def idle_task_id(session: str, activity_seq: int) -> str:
    """Task id for one inactivity timer: one per session activity count."""
    return "idle-" + stable_hash("idle", session, str(activity_seq))


def agent_request_key(tenant_id: str, request_id: str) -> str:
    """Dedupe key of an agent's request: the CRM's own id for it, retried or not."""
    return stable_hash("agent", tenant_id, request_id)


def comment_id(channel: str, tenant_id: str, provider_comment_id: str) -> str:
    """The `comments/{id}` document of a provider comment."""
    return stable_hash("comment", channel, tenant_id, provider_comment_id)[:40]


def outbound_task_id(outbox_record_id: str) -> str:
    """Task id for sending one outbox record."""
    return f"out-{outbox_record_id}"


def event_ref(channel: str, event_id: str) -> str:
    """How audit entries and logs name an event: provider ids can embed a phone number
    (a WhatsApp wamid is base64 around it), so they get a hash instead."""
    return stable_hash("event", channel, event_id)[:40]
