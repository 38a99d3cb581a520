"""One scheduled job run the way Cloud Scheduler runs it, and its answer checked.

In the cloud, Cloud Scheduler's `jobs.run` (POST .../jobs/{id}:run) makes the scheduler call
the job itself, with its OIDC token; the job's `lastAttemptTime` and `status` (the target's
answer) then tell how it went
(https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/run).
Locally, the job is POSTed with the shared task header, as the local task queue does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from atende.adapters.cloud_tasks import TASK_TOKEN_HEADER
from atende.smoke.http import Http
from atende.smoke.result import CheckResult, failed, passed

SCHEDULER_API = "https://cloudscheduler.googleapis.com/v1"


@dataclass(frozen=True)
class JobOutcome:
    ok: bool
    detail: str


class JobRunner(Protocol):
    def run(self, job: str) -> JobOutcome: ...


def check_job(runner: JobRunner, job: str) -> CheckResult:
    name = f"scheduled job {job}"
    try:
        outcome = runner.run(job)
    except requests.RequestException as error:
        outcome = JobOutcome(False, f"no answer ({type(error).__name__})")
    if outcome.ok:
        return passed(name, outcome.detail)
    return failed(name, outcome.detail,
                  "401/403 or UNAUTHENTICATED/PERMISSION_DENIED: the job refused the "
                  "scheduler's OIDC token (its audience, ATENDE_FUNCTIONS_BASE_URL, or the "
                  "invoker service account's run.invoker); 500 'misconfigured': the job's "
                  "task authentication settings; 503: the job failed and will be retried. "
                  "Look at the job's logs.")  # fmt: skip


class LocalJobRunner:
    """POSTs the job like the local task queue would (the shared task header)."""

    def __init__(self, http: Http, base_url: str, task_secret: str) -> None:
        self._http = http
        self._base_url = base_url
        self._task_secret = task_secret

    def run(self, job: str) -> JobOutcome:
        answer = self._http.request(
            "POST", f"{self._base_url}/{job}", headers={TASK_TOKEN_HEADER: self._task_secret}
        )
        detail = f"answered {answer.status} {answer.text.strip()[:200]}"
        return JobOutcome(200 <= answer.status < 300, detail)


class AuthorizedClient(Protocol):
    """google.auth.transport.requests.AuthorizedSession, or a fake."""

    def get(self, url: str, **kwargs: Any) -> Any: ...

    def post(self, url: str, **kwargs: Any) -> Any: ...


def scheduler_job_id(job: str) -> str:
    """The Cloud Scheduler job of a job function (infra/scheduler.tf: atende-<name>)."""
    return "atende-" + job.replace("_", "-")


class CloudSchedulerJobRunner:
    def __init__(
        self,
        client: AuthorizedClient,
        project: str,
        region: str,
        timeout: float = 120.0,
        poll_seconds: float = 3.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._project = project
        self._region = region
        self._timeout = timeout
        self._poll = poll_seconds
        self._sleep = sleep
        self._monotonic = monotonic

    def _job(self, url: str) -> dict[str, Any]:
        response = self._client.get(url, timeout=30)
        if response.status_code != 200:
            raise _ApiError(f"reading the job answered {response.status_code}")
        job: dict[str, Any] = response.json()
        return job

    def run(self, job: str) -> JobOutcome:
        name = f"projects/{self._project}/locations/{self._region}/jobs/{scheduler_job_id(job)}"
        url = f"{SCHEDULER_API}/{name}"
        try:
            before = self._job(url).get("lastAttemptTime")
            started = self._client.post(f"{url}:run", json={}, timeout=30)
            if started.status_code != 200:
                return JobOutcome(False, f"jobs.run on {name} answered {started.status_code}: "
                                  f"{started.text[:200]} (the runner needs "
                                  "cloudscheduler.jobs.run)")  # fmt: skip
            deadline = self._monotonic() + self._timeout
            while self._monotonic() < deadline:
                self._sleep(self._poll)
                current = self._job(url)
                if current.get("lastAttemptTime") in (None, before):
                    continue
                status = current.get("status") or {}
                code = int(status.get("code", 0))
                if code == 0:
                    return JobOutcome(True, f"{name} ran and its target answered 2xx")
                return JobOutcome(False, f"{name} ran and its target answered status code "
                                  f"{code}: {status.get('message', '')}")  # fmt: skip
        except _ApiError as error:
            return JobOutcome(False, f"{name}: {error} (the runner needs cloudscheduler.jobs.get)")
        return JobOutcome(False, f"{name} did not run within {self._timeout:g} s")


class _ApiError(Exception):
    pass
