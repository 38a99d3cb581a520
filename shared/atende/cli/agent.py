"""`atende agent list|reply|release|resolve`: act as an agent against the running stack.

Replies and hand-backs go through the `agent_reply` function over HTTP, with the agent API
token, exactly as a CRM would call it.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid

import requests

from atende.adapters.agent_auth import AGENT_API_TOKEN
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.whatsapp.settings import WhatsAppSettings
from atende.cli.stack_env import load_stack_env
from atende.domain import keys


def _tenant(args: argparse.Namespace) -> str | None:
    if args.tenant:
        return str(args.tenant)
    tenants = set(WhatsAppSettings().tenants.values())
    return tenants.pop() if len(tenants) == 1 else None


def run_agent(args: argparse.Namespace) -> int:
    load_stack_env()
    tenant = _tenant(args)
    if tenant is None:
        print("more than one tenant is configured: pass --tenant")
        return 2
    if args.action == "list":
        return _list(tenant)
    return _act(args, tenant)


def _list(tenant: str) -> int:
    from google.cloud.firestore_v1.base_query import FieldFilter

    from atende.adapters.firestore import codec
    from atende.bootstrap import container

    query = (
        container()
        .firestore.collection(codec.HANDOFFS)
        .where(filter=FieldFilter("tenant_id", "==", tenant))
        .where(filter=FieldFilter("status", "==", "waiting"))
    )
    waiting = sorted(
        (snapshot.to_dict() for snapshot in query.stream()), key=lambda r: r["requested_at"]
    )
    if not waiting:
        print(f"no conversation of tenant {tenant} is waiting for an agent")
    for record in waiting:
        print(
            f"{record['session_id']}  {record['channel']}  queue={record['queue']}  "
            f"unread={record['unread']}  since={record['requested_at'].isoformat()}  "
            f"reason={record['reason']}"
        )
    return 0


def _act(args: argparse.Namespace, tenant: str) -> int:
    session = args.session or (
        keys.session_id(tenant, args.channel, args.contact) if args.contact else None
    )
    if session is None:
        print("name the conversation: --contact NUMBER (with --channel) or --session ID")
        return 2
    token = EnvSecretSource().get(AGENT_API_TOKEN)
    if not token:
        print(f"{AGENT_API_TOKEN} is not set (copy .env.example to .env, or run `make dev`)")
        return 2
    command = {
        "action": args.action,
        "tenant_id": tenant,
        "session_id": session,
        # One request per invocation; the function recognises a retry of it by this id.
        "request_id": args.request_id or f"cli-{uuid.uuid4().hex}",
        "agent_id": args.agent,
        **({"text": args.text} if args.action == "reply" else {}),
    }
    base = os.environ.get("ATENDE_FUNCTIONS_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
    try:
        response = requests.post(
            f"{base}/agent_reply",
            json=command,
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
    except requests.ConnectionError:
        print("cannot reach the local stack: is `make dev` running in another terminal?")
        return 2
    print(f"agent_reply answered {response.status_code}")
    try:
        print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    except ValueError:
        print(response.text)
    return 0 if response.status_code == 200 else 1
