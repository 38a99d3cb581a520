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
    _dev_retries(config, values)
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


#: `.env` keys for the dev stack's Cloud Tasks retries (both queues): stack settings, not
#: the functions'.
DEV_RETRY_KEYS = {
    "ATENDE_DEV_MAX_ATTEMPTS": ("max_attempts", int),
    "ATENDE_DEV_MIN_BACKOFF_SECONDS": ("min_backoff_seconds", float),
    "ATENDE_DEV_MAX_BACKOFF_SECONDS": ("max_backoff_seconds", float),
    "ATENDE_DEV_MAX_DOUBLINGS": ("max_doublings", int),
}


def _dev_retries(config: StackConfig, values: dict[str, str]) -> None:
    """Short retries by default (DEV_RETRIES), changed by `.env`; a bad value is refused
    with the key's name."""
    for key, (field, kind) in DEV_RETRY_KEYS.items():
        if key not in values:
            continue
        raw = values.pop(key)
        try:
            value = kind(raw)
        except ValueError:
            raise SystemExit(f"{key}={raw!r} in .env is not a number") from None
        for queue in config.queue_overrides.values():
            queue[field] = value
    if "ATENDE_DEV_TOMBSTONE_SECONDS" in values:
        config.tasks_tombstone_seconds = float(values.pop("ATENDE_DEV_TOMBSTONE_SECONDS"))
    config.retries()  # validated now: a bad combination is a clear error, not a dead stack


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


def _register_dev_agent_token(stack: Stack) -> None:
    """The `.env`'s ATENDE_AGENT_API_TOKEN becomes an agent API token of the dev tenants, so
    `atende agent reply …` works (agent_reply reads tokens from Firestore, not from .env)."""
    from atende.adapters.firestore.agent_tokens import register_dev_token
    from atende.bootstrap import container

    os.environ.update(stack.client_env)
    tenants = sorted({"demo", *stack.config.whatsapp_tenants.values()})
    register_dev_token(container().firestore, stack.config.agent_token, tenants)
    print(f"registered the .env agent API token for {', '.join(tenants)}", flush=True)


def with_smoke_account(config: StackConfig) -> StackConfig:
    """`atende smoke`'s tenant gets its own WhatsApp account in the dev stack (unless `.env`
    maps that id already); the smoke command stores the tenant's dry-run configuration
    itself, so its replies are built and validated but never sent."""
    from atende.smoke.delivery import DEV_SMOKE_ACCOUNT, SMOKE_TENANT

    config.whatsapp_tenants.setdefault(DEV_SMOKE_ACCOUNT, SMOKE_TENANT)
    return config


def run_dev(functions_port: int, ai_sandbox: bool = False) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        config = with_smoke_account(config_from_dotenv(functions_port, ai_sandbox=ai_sandbox))
        with Stack(config) as stack:
            write_stack_env({**stack.client_env, "ATENDE_SANDBOX_URL": stack.sandbox_url})
            _seed_demo_tenant(stack)
            _register_dev_agent_token(stack)
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
