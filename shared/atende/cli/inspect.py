"""`atende inspect session`: print a session and its replies from Firestore."""

from __future__ import annotations

import argparse
import json

from atende.bootstrap import container
from atende.channels.whatsapp.settings import WhatsAppSettings
from atende.cli.stack_env import load_stack_env
from atende.domain import keys


def run_inspect_session(args: argparse.Namespace) -> int:
    load_stack_env()
    tenant = args.tenant
    if tenant is None:
        tenants = set(WhatsAppSettings().tenants.values())
        if len(tenants) != 1:
            print("more than one tenant is configured: pass --tenant")
            return 2
        tenant = tenants.pop()
    app = container()
    session_id = keys.session_id(tenant, args.channel, args.contact)
    session = app.session_reader.get(session_id)
    if session is None:
        print(f"no session for that contact in tenant {tenant}")
        return 1
    replies = app.outbox_store.for_session(session_id)
    print(
        json.dumps(
            {
                "session": session.model_dump(mode="json"),
                "replies": [
                    record.model_dump(mode="json", exclude={"history"}) for record in replies
                ],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    return 0
