"""Runs the smoke checks in order and reports one result per check."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from atende.deployment import FunctionSpec
from atende.ports import SecretSource
from atende.smoke.delivery import DeliveryCheck
from atende.smoke.http import Http
from atende.smoke.jobs import JobRunner, check_job
from atende.smoke.logs import AuthLogSearch, check_logs
from atende.smoke.result import CheckResult, passed
from atende.smoke.webhooks import check_webhooks


@dataclass
class Smoke:
    http: Http
    base_url: str
    specs: Sequence[FunctionSpec]
    secrets: SecretSource
    delivery: DeliveryCheck
    jobs: JobRunner
    logs: AuthLogSearch
    #: None: no job run (a deployment whose every job is paused; said in the report).
    job: str | None
    #: Cloud Logging shows entries some seconds after they are written.
    log_settle_seconds: float = 0.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def run(self, report: Callable[[CheckResult], None]) -> list[CheckResult]:
        self.logs.start()
        results: list[CheckResult] = []

        def add(result: CheckResult) -> None:
            results.append(result)
            report(result)

        for result in check_webhooks(self.http, self.base_url, self.specs, self.secrets):
            add(result)
        add(self.delivery.run())
        if self.job is None:
            add(passed("scheduled job", "not run (--job none)"))
        else:
            add(check_job(self.jobs, self.job))
        if self.log_settle_seconds:
            self.sleep(self.log_settle_seconds)
        add(check_logs(self.logs))
        return results


def default_job(specs: Sequence[FunctionSpec]) -> str | None:
    """youtube_renew when deployed (it needs nothing configured to answer), else the first job."""
    jobs = sorted(spec.name for spec in specs if spec.kind == "job")
    if "youtube_renew" in jobs:
        return "youtube_renew"
    return jobs[0] if jobs else None
