"""`atende dev` (what `make dev` runs): the whole local stack on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path

from dotenv import dotenv_values

from atende.cli.stack_env import STACK_FILE, write_stack_env
from atende.devstack.firestore_emulator import EmulatorNotInstalledError
from atende.devstack.stack import Stack, StackConfig

DEV_DIR = Path(".atende")


DEMO_TENANT = Path("docs/examples/tenant-demo.json")
AI_SANDBOX_PORT = 8091


def config_from_dotenv(
    functions_port: int, env_file: Path = Path(".env"), ai_sandbox: bool = False
) -> StackConfig:
    """The stack's dev secrets and tenant map come from `.env` (a copy of `.env.example`)."""
    values = {key: value for key, value in dotenv_values(env_file).items() if value}
    config = StackConfig(
        repo_root=Path.cwd(), run_dir=DEV_DIR / "run", functions_port=functions_port
    )
    config.whatsapp_app_secret = values.get("WHATSAPP_APP_SECRET", config.whatsapp_app_secret)
    config.whatsapp_verify_token = values.get("WHATSAPP_VERIFY_TOKEN", config.whatsapp_verify_token)
    config.whatsapp_access_token = values.get("WHATSAPP_ACCESS_TOKEN", config.whatsapp_access_token)
    config.task_secret = values.get("ATENDE_TASK_SECRET", config.task_secret)
    config.agent_token = values.get("ATENDE_AGENT_API_TOKEN", config.agent_token)
    if ai_sandbox:
        config.ai_sandbox_port = AI_SANDBOX_PORT
    if "ATENDE_WHATSAPP_TENANTS" in values:
        config.whatsapp_tenants = json.loads(values.pop("ATENDE_WHATSAPP_TENANTS"))
    # Other settings in .env (ATENDE_LOG_LEVEL, …) reach the functions too; the stack's own
    # wiring (emulator hosts, URLs) wins.
    wired = set(Stack(config).client_env)  # builds no process: only reads the wiring
    config.extra_env = {
        key: value
        for key, value in values.items()
        if key.startswith("ATENDE_") and key not in wired
    }
    return config


def _seed_demo_tenant(stack: Stack) -> None:
    """The demo tenant's configuration, unless one is stored already (Firestore keeps it
    between runs of `make dev`)."""
    if not DEMO_TENANT.exists():
        return
    from atende.cli.tenant import seed_tenant

    os.environ.update(stack.client_env)
    seeded = seed_tenant(DEMO_TENANT)
    if seeded:
        print(f"stored the {seeded} tenant's configuration from {DEMO_TENANT}", flush=True)


def run_dev(functions_port: int, ai_sandbox: bool = False) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        with Stack(config_from_dotenv(functions_port, ai_sandbox=ai_sandbox)) as stack:
            write_stack_env({**stack.client_env, "ATENDE_SANDBOX_URL": stack.sandbox_url})
            _seed_demo_tenant(stack)
            print(stack.banner(), flush=True)
            print('Try: .venv/bin/atende simulate whatsapp --text "Oi"', flush=True)
            while not stop.wait(1.0):
                pass
    except EmulatorNotInstalledError as error:
        print(error)
        return 1
    finally:
        STACK_FILE.unlink(missing_ok=True)
    return 0
