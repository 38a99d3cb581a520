"""The workers' and jobs' logs since the smoke started, searched for authentication failures:
a task or scheduler call refused ('caller refused', the code's own check), refused before the
code by Cloud Run (its request log: 401/403), or task authentication not configured.

In the cloud: Cloud Logging's entries.list
(https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list). Locally: the
functions' log file, from where it ended when the smoke started.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from atende.smoke.result import CheckResult, failed, passed

CHECK = "workers' logs"
#: What the code logs when it refuses a task or job call (entrypoints/http.py).
REFUSED = "caller refused"
NOT_CONFIGURED = ("task authentication is not configured; refusing every call",
                  "job authentication is not configured; refusing every call")  # fmt: skip
AUTH_MESSAGES = (REFUSED, *NOT_CONFIGURED)


@dataclass(frozen=True)
class AuthFailure:
    #: The function, where the source says (the local log file does not).
    function: str | None
    message: str
    outcome: str | None


class AuthLogSearch(Protocol):
    def start(self) -> None:
        """Mark now: only what is logged after this counts."""
        ...

    def failures(self) -> list[AuthFailure]: ...


def check_logs(search: AuthLogSearch) -> CheckResult:
    found = search.failures()
    if not found:
        return passed(CHECK, "no authentication failure of a worker or job since the smoke began")
    counts: dict[str, int] = {}
    for failure in found:
        where = failure.function or "a worker or job"
        key = f"{where}: {failure.message}" + (f" ({failure.outcome})" if failure.outcome else "")
        counts[key] = counts.get(key, 0) + 1
    listed = "; ".join(f"{key} ×{n}" for key, n in sorted(counts.items()))
    return failed(CHECK, f"{len(found)} authentication failure(s): {listed}",
                  "wrong_audience: the tasks' OIDC audience (ATENDE_FUNCTIONS_BASE_URL, the "
                  "cloudfunctions.net URL) is not what the function accepts; wrong_email: "
                  "ATENDE_TASKS_SERVICE_ACCOUNT is not the queues' invoker; a 401/403 request "
                  "log with no code line: Cloud Run refused the token itself (run.invoker of "
                  "the invoker service account, the audience); 'not configured': the "
                  "function's ATENDE_TASK_AUTH settings.")  # fmt: skip


def _failure(entry: dict[str, Any], function: str | None) -> AuthFailure | None:
    message = entry.get("message")
    if message in AUTH_MESSAGES:
        outcome = entry.get("outcome")
        return AuthFailure(function, str(message), outcome if isinstance(outcome, str) else None)
    return None


class LocalLogFile:
    """The dev stack's functions log (`.atende/run/functions.log`): JSON lines from every
    function of the one local process."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0

    def start(self) -> None:
        self._offset = self._path.stat().st_size if self._path.exists() else 0

    def failures(self) -> list[AuthFailure]:
        if not self._path.exists():
            return []
        with self._path.open("rb") as handle:
            handle.seek(self._offset)
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
        found = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            failure = _failure(entry, None) if isinstance(entry, dict) else None
            if failure is not None:
                found.append(failure)
        return found


class AuthorizedClient(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...


def service_name(function: str) -> str:
    """The Cloud Run service of a 2nd gen function: its name with dashes for underscores."""
    return function.lower().replace("_", "-")


def cloud_filter(project: str, functions: Sequence[str], since: datetime) -> str:
    services = " OR ".join(f'"{service_name(f)}"' for f in functions)
    code = " OR ".join(f'jsonPayload.message="{m}"' for m in AUTH_MESSAGES)
    refused_by_run = (
        f'(logName="projects/{project}/logs/run.googleapis.com%2Frequests" AND '
        "httpRequest.status=(401 OR 403))"
    )
    return (
        f'resource.type="cloud_run_revision" AND resource.labels.service_name=({services}) '
        f'AND timestamp>="{since.isoformat()}" AND (({code}) OR {refused_by_run})'
    )


class CloudLogSearch:
    URL = "https://logging.googleapis.com/v2/entries:list"

    def __init__(
        self,
        client: AuthorizedClient,
        project: str,
        functions: Iterable[str],
        now: Any = None,
    ) -> None:
        from datetime import UTC

        self._client = client
        self._project = project
        self._functions = sorted(functions)
        self._now = now or (lambda: datetime.now(UTC))
        self._since: datetime | None = None

    def start(self) -> None:
        self._since = self._now()

    def failures(self) -> list[AuthFailure]:
        assert self._since is not None, "start() first"  # noqa: S101 - a programming error
        body = {
            "resourceNames": [f"projects/{self._project}"],
            "filter": cloud_filter(self._project, self._functions, self._since),
            "orderBy": "timestamp asc",
            "pageSize": 100,
        }
        response = self._client.post(self.URL, json=body, timeout=60)
        if response.status_code != 200:
            return [AuthFailure(None, f"cannot read the logs: entries.list answered "
                                f"{response.status_code} (the runner needs "
                                "roles/logging.viewer)", None)]  # fmt: skip
        found = []
        for entry in response.json().get("entries", []):
            service = (entry.get("resource", {}).get("labels", {}) or {}).get("service_name")
            payload = entry.get("jsonPayload")
            failure = _failure(payload, service) if isinstance(payload, dict) else None
            if failure is None:
                status = (entry.get("httpRequest") or {}).get("status")
                failure = AuthFailure(service, f"refused by Cloud Run with {status}", None)
            found.append(failure)
        return found
