"""`atende agent list|reply|release|resolve`: act as an agent against the running stack;
`atende agent token create|list|revoke`: manage the agent API tokens.

Replies and hand-backs go through the `agent_reply` function over HTTP, with the agent API
token from ATENDE_AGENT_API_TOKEN (environment or `.env`), exactly as a CRM would call it.
Tokens are written straight to Firestore (the emulator of `make dev`, or the project named by
ATENDE_PROJECT with your Google credentials); only their SHA-256 is stored.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from typing import TYPE_CHECKING, Any

import requests
from pydantic import ValidationError

from atende.adapters.agent_auth import AGENT_API_TOKEN, CACHE_SECONDS, token_ref
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.whatsapp.settings import WhatsAppSettings
from atende.cli.stack_env import load_stack_env
from atende.domain import keys

if TYPE_CHECKING:
    from atende.adapters.firestore.agent_tokens import AgentTokenRecord, FirestoreAgentTokens


def _tenant(args: argparse.Namespace) -> str | None:
    if args.tenant:
        return str(args.tenant)
    tenants = set(WhatsAppSettings().tenants.values())
    return tenants.pop() if len(tenants) == 1 else None


def add_token_commands(agent_sub: Any) -> None:
    """`atende agent token …` (agent_sub: the `agent` command's subparsers)."""
    token = agent_sub.add_parser("token", help="agent API tokens: create, list, revoke")
    token_sub = token.add_subparsers(dest="tokens_command", required=True)
    create = token_sub.add_parser(
        "create", help="a new token for these tenants, printed once (only its hash is stored)"
    )
    create.add_argument(
        "--tenant", dest="tenants", action="append", required=True, help="repeat for more"
    )
    create.add_argument("--label", default="", help="your name for it, such as crm-prod")
    token_sub.add_parser("list", help="every token: hash prefix, label, tenants, dates")
    revoke = token_sub.add_parser(
        "revoke", help=f"refuse a token from now on (instances notice within {CACHE_SECONDS:g} s)"
    )
    revoke.add_argument("hash_prefix", help="the start of its hash, as `token list` shows it")


def run_agent(args: argparse.Namespace) -> int:
    load_stack_env()
    if args.action == "token":
        return _token(args)
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
    if response.status_code in (401, 403):
        print(
            f"{AGENT_API_TOKEN} must be a token registered for tenant {tenant}: `make dev` "
            "registers the .env one; elsewhere create one with `atende agent token create`"
        )
    return 0 if response.status_code == 200 else 1


def _tokens() -> FirestoreAgentTokens:
    from atende.bootstrap import container

    return container().agent_tokens


def _describe(record: AgentTokenRecord) -> str:
    revoked = record.revoked_at.isoformat(timespec="seconds") if record.revoked_at else "-"
    return (
        f"{token_ref(record.token_hash)}  {record.label or '-':<16}  "
        f"{','.join(record.tenants):<24}  {record.created_at.isoformat(timespec='seconds')}  "
        f"{revoked}"
    )


def _token(args: argparse.Namespace) -> int:
    from atende.adapters.firestore.agent_tokens import TokenNotFoundError

    store = _tokens()
    if args.tokens_command == "create":
        try:
            token, record = store.create(args.tenants, args.label)
        except ValidationError as error:
            fields = sorted({str(item["loc"][0]) for item in error.errors(include_input=False)})
            print(
                f"not created: check {', '.join(fields)} (tenant ids: letters, digits, . _ : @ -;"
            )
            print("labels: at most 64 characters)")
            return 2
        print(f"created agent token {token_ref(record.token_hash)} for {', '.join(record.tenants)}")
        print(token)
        print("Copy it now: it is not shown again (Atende stores only its SHA-256).")
        return 0
    if args.tokens_command == "list":
        records = store.all()
        if not records:
            print("no agent tokens: create one with `atende agent token create --tenant ID`")
            return 0
        print(f"{'hash':<12}  {'label':<16}  {'tenants':<24}  {'created':<25}  revoked")
        for record in records:
            print(_describe(record))
        return 0
    try:
        record = store.revoke(args.hash_prefix)
    except TokenNotFoundError as error:
        print(error)
        return 1
    print(
        f"revoked agent token {token_ref(record.token_hash)} ({record.label or 'no label'}); "
        f"running instances refuse it within {CACHE_SECONDS:g} s"
    )
    return 0
