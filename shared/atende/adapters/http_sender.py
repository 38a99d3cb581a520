"""Sends outbox records over HTTP: timeout, a circuit breaker per provider, and a few
jittered retries of transient failures inside one task attempt (the queue retries beyond).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pybreaker
import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from atende.domain.outbox import OutboxRecord
from atende.errors import AtendeError, ProviderTransientError, TransientError
from atende.ports import ProviderApi, ProviderCall, SendResult

logger = logging.getLogger(__name__)


@dataclass
class RetryPolicy:
    max_tries: int = 3
    initial_wait: float = 0.2
    max_wait: float = 2.0


def make_breaker(name: str, fail_max: int, reset_seconds: float) -> pybreaker.CircuitBreaker:
    """Only transient failures trip it: a refused request means the provider is up."""
    return pybreaker.CircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_seconds,
        exclude=[lambda error: not isinstance(error, TransientError)],
        name=name,
    )


@dataclass
class _Attempts:
    failures: list[str] = field(default_factory=list)


class HttpProviderSender:
    def __init__(
        self,
        provider: ProviderApi,
        breaker: pybreaker.CircuitBreaker,
        timeout_seconds: float,
        retry: RetryPolicy,
        session: requests.Session | None = None,
    ) -> None:
        self._provider = provider
        self._breaker = breaker
        self._timeout = timeout_seconds
        self._retry = retry
        self._session = session or requests.Session()

    def send(self, record: OutboxRecord) -> SendResult:
        call = self._provider.prepare(record)
        attempts = _Attempts()

        def note_failure(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            attempts.failures.append(error.code if isinstance(error, AtendeError) else "error")

        retrying = Retrying(
            stop=stop_after_attempt(self._retry.max_tries),
            wait=wait_exponential_jitter(
                multiplier=self._retry.initial_wait,
                max=self._retry.max_wait,
                jitter=self._retry.initial_wait,
            ),
            retry=retry_if_exception(_worth_retrying),
            after=note_failure,
            reraise=True,
        )
        try:
            message_id = retrying(self._guarded_post, call)
        except AtendeError as error:
            if _counts_as_attempt(error):
                attempts.failures.append(error.code)
            error.failures = tuple(attempts.failures)
            error.attempts = len(attempts.failures)
            raise
        return SendResult(
            provider_message_id=message_id,
            attempts=len(attempts.failures) + 1,
            failures=tuple(attempts.failures),
        )

    def _guarded_post(self, call: ProviderCall) -> str | None:
        try:
            result: str | None = self._breaker.call(self._post, call)
        except pybreaker.CircuitBreakerError as error:
            raise ProviderTransientError("circuit open", code="breaker_open") from error
        return result

    def _post(self, call: ProviderCall) -> str | None:
        try:
            response = self._session.post(
                call.url, json=call.json, headers=call.headers, timeout=self._timeout
            )
        except requests.Timeout as error:
            raise ProviderTransientError("provider timed out", code="timeout") from error
        except requests.RequestException as error:
            raise ProviderTransientError("provider unreachable", code="connection_error") from error
        if 200 <= response.status_code < 300:
            return self._provider.message_id(response.content)
        raise self._provider.classify(response.status_code, response.content)


def _worth_retrying(error: BaseException) -> bool:
    return isinstance(error, TransientError) and getattr(error, "code", "") != "breaker_open"


def _counts_as_attempt(error: AtendeError) -> bool:
    """Tenacity noted every retryable failure already; add the final, non-retryable one
    unless no request went out (an open breaker)."""
    return not _worth_retrying(error) and error.code != "breaker_open"


class DryRunSender:
    """For a tenant whose configuration says `outbound: dry_run` (the smoke tenant): builds
    and validates the provider request exactly as `HttpProviderSender` does (the channel's
    `prepare`, with its credential and payload checks) and sends nothing."""

    def __init__(self, provider: ProviderApi) -> None:
        self._provider = provider

    def send(self, record: OutboxRecord) -> SendResult:
        self._provider.prepare(record)
        return SendResult(provider_message_id=None, attempts=0)
