"""`atende smoke`: after a deploy (or against `make dev`), check that the deployment answers.

    atende smoke                                   # the local stack of `make dev`
    atende smoke --project P --region R            # the deployed functions, as the runner

Exit 0 when every check passed (one line each), 1 when any failed (what failed, what it
means, what to look at), 2 when it could not start. See docs/deploy.md ("Smoke check
after every deploy").
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from atende.cli.stack_env import load_stack_env
from atende.deployment import FunctionSpec, functions
from atende.ports import SecretSource
from atende.smoke.delivery import (
    DEFAULT_SMOKE_CONTACT,
    DEV_SMOKE_ACCOUNT,
    SMOKE_TENANT,
    DeliveryCheck,
    SmokeTarget,
)
from atende.smoke.http import RequestsHttp
from atende.smoke.jobs import CloudSchedulerJobRunner, JobRunner, LocalJobRunner
from atende.smoke.logs import AuthLogSearch, CloudLogSearch, LocalLogFile
from atende.smoke.result import CheckResult
from atende.smoke.runner import Smoke, default_job

LOCAL_LOG = Path(".atende") / "run" / "functions.log"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def add_parser(sub: Any) -> None:
    smoke = sub.add_parser("smoke", help="check that a deployment (or `make dev`) answers")
    smoke.add_argument("--project", help="the Google Cloud project: check the deployment there")
    smoke.add_argument("--region", default="us-central1")
    smoke.add_argument("--base-url", help="the functions' base URL (default: the project's "
                       "cloudfunctions.net URL, or the local stack's)")  # fmt: skip
    smoke.add_argument("--tenant", default=SMOKE_TENANT, help="the smoke tenant")
    smoke.add_argument("--account", default=DEV_SMOKE_ACCOUNT,
                       help="the WhatsApp phone number id mapped to the smoke tenant")  # fmt: skip
    smoke.add_argument("--contact", default=DEFAULT_SMOKE_CONTACT,
                       help="the contact the smoke delivery comes from")  # fmt: skip
    smoke.add_argument("--job", help="the scheduled job to run (default: youtube_renew); "
                       "`none` to skip")  # fmt: skip
    smoke.add_argument("--channels", default="all",
                       help="the channels whose webhooks to check, comma-separated (default: "
                       "all; a channel you do not use has no secret and answers 500)")  # fmt: skip
    smoke.add_argument("--timeout", type=float, default=120.0,
                       help="seconds to wait for the smoke replies and for the job")  # fmt: skip
    smoke.add_argument("--log-file", type=Path, default=LOCAL_LOG,
                       help="locally: the functions' log file")  # fmt: skip


class _ProjectStore:
    """Firestore of the project (or the emulator): the smoke tenant and its outbox."""

    def __init__(self, project: str) -> None:
        from atende.adapters.firestore.client import make_client
        from atende.adapters.firestore.tenant_store import FirestoreTenantStore

        self._client = make_client(project)
        self.tenants = FirestoreTenantStore(self._client, ttl_seconds=0)

    def for_session(self, session_id: str) -> list[dict[str, Any]]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self._client.collection("outbox").where(
            filter=FieldFilter("session_id", "==", session_id)
        )
        return [snapshot.to_dict() for snapshot in query.stream()]


def _job(args: argparse.Namespace) -> str | None:
    if args.job == "none":
        return None
    return str(args.job) if args.job else default_job(functions())


def checked(specs: list[FunctionSpec], channels: str) -> list[FunctionSpec]:
    """The functions to check: every one, or only the named channels' webhooks among the
    webhooks (refusing a name that is no deployed channel)."""
    if channels.strip() in ("", "all"):
        return specs
    wanted = {name.strip() for name in channels.split(",") if name.strip()}
    webhooks = {spec.name.removesuffix("_webhook") for spec in specs if spec.kind == "webhook"}
    unknown = sorted(wanted - webhooks)
    if unknown:
        raise SystemExit(
            f"--channels names no deployed webhook: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(webhooks))})"
        )
    return [
        spec
        for spec in specs
        if spec.kind != "webhook" or spec.name.removesuffix("_webhook") in wanted
    ]


def _build(args: argparse.Namespace) -> Smoke:
    specs = functions()
    http = RequestsHttp()
    secrets: SecretSource
    jobs: JobRunner
    logs: AuthLogSearch
    if args.project:
        import google.auth
        from google.auth.transport.requests import AuthorizedSession

        from atende.adapters.secret_manager import SecretManagerSource

        project = args.project
        base_url = args.base_url or f"https://{args.region}-{project}.cloudfunctions.net"
        credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM])
        authorized: Any = AuthorizedSession  # the library has no type hints here
        session = authorized(credentials)
        secrets = SecretManagerSource(project)
        jobs = CloudSchedulerJobRunner(session, project, args.region, timeout=args.timeout)
        private = [spec.name for spec in specs if spec.kind in ("worker", "job")]
        logs = CloudLogSearch(session, project, private)
        settle = 20.0
    else:
        from atende.adapters.env_secrets import EnvSecretSource

        load_stack_env()
        if not os.environ.get("FIRESTORE_EMULATOR_HOST"):
            raise SystemExit("no local stack: run `make dev` in another terminal, or pass "
                             "--project to check a deployment")  # fmt: skip
        project = os.environ.get("ATENDE_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT", "")
        base_url = args.base_url or os.environ.get(
            "ATENDE_FUNCTIONS_BASE_URL", "http://127.0.0.1:8080"
        )
        secrets = EnvSecretSource()
        jobs = LocalJobRunner(http, base_url.rstrip("/"), secrets.get("ATENDE_TASK_SECRET") or "")
        logs = LocalLogFile(args.log_file)
        settle = 0.0
    base_url = base_url.rstrip("/")
    store = _ProjectStore(project)
    target = SmokeTarget(tenant_id=args.tenant, account=args.account, contact=args.contact)
    delivery = DeliveryCheck(http, base_url, secrets, store.tenants, store, target,
                             timeout=args.timeout)  # fmt: skip
    return Smoke(http, base_url, checked(specs, args.channels), secrets, delivery, jobs, logs,
                 _job(args),
                 log_settle_seconds=settle)  # fmt: skip


def _print(result: CheckResult) -> None:
    for line in result.lines():
        print(line, flush=True)


def run_smoke(args: argparse.Namespace) -> int:
    smoke = _build(args)
    print(f"smoke check of {smoke.base_url}", flush=True)
    results = smoke.run(_print)
    failures = [result for result in results if not result.ok]
    if failures:
        print(f"smoke check FAILED: {len(failures)} of {len(results)} checks", flush=True)
        return 1
    print(f"smoke check passed: {len(results)} checks", flush=True)
    return 0
