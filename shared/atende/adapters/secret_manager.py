"""Secrets from Google Secret Manager, resolved once per instance: the cloud `SecretSource`."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from atende.errors import ConfigurationError, TransientError

_log = logging.getLogger(__name__)

_SECRET_ID = re.compile(r"[a-z0-9-]{1,255}")


def _default_client() -> Any:
    # Imported on first use: the client library is slow to import and only the cloud
    # bootstrap needs it.
    from google.cloud import secretmanager

    return secretmanager.SecretManagerServiceClient()


class SecretManagerSource:
    """Reads `projects/{project}/secrets/{id}/versions/latest`, id = name lower-cased with
    dashes (WHATSAPP_APP_SECRET -> whatsapp-app-secret).

    A value is fetched once per instance and cached. A secret that is missing (NotFound) or
    not readable by this function (PermissionDenied: likely just after a deploy, while the
    grant propagates) is remembered only for `failure_seconds`, then asked again, so that
    an operator's fix is seen without a new instance: missing reads as None (callers fail
    closed with a transient ConfigurationError), refused raises ConfigurationError. Other
    failures raise TransientError and are not cached. Values are never logged.
    """

    #: Retries inside one call are few and short: a caller's request is waiting, and the
    #: queue or provider retries the whole request later anyway.
    RETRY_INITIAL_SECONDS: Final = 0.1
    RETRY_MAXIMUM_SECONDS: Final = 1.0

    def __init__(
        self,
        project: str,
        client_factory: Callable[[], Any] | None = None,
        *,
        timeout: float = 10.0,
        retry_deadline: float = 3.0,
        failure_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`retry_deadline` bounds the client's own retries of UNAVAILABLE and
        RESOURCE_EXHAUSTED; 0 turns them off."""
        if not project:
            raise ConfigurationError("no project for Secret Manager", code="secrets_project")
        self._project = project
        self._client_factory = client_factory or _default_client
        self._timeout = timeout
        self._retry_deadline = retry_deadline
        self._client: Any = None
        self._values: dict[str, str] = {}
        #: name -> (until when, the error to raise or None for "not configured").
        self._failures: dict[str, tuple[float, ConfigurationError | None]] = {}
        self._failure_seconds = failure_seconds
        self._monotonic = monotonic
        # One lock for all names: secrets are read a handful of times per instance, and
        # holding it across the RPC is what makes concurrent first calls share one RPC.
        self._lock = threading.Lock()

    def get(self, name: str) -> str | None:
        if name in self._values:
            return self._values[name]
        with self._lock:
            if name in self._values:
                return self._values[name]
            failure = self._failures.get(name)
            if failure is None or failure[0] <= self._monotonic():
                try:
                    value = self._fetch(name)
                except ConfigurationError as error:
                    failure = (self._monotonic() + self._failure_seconds, error)
                else:
                    if value is not None:
                        self._failures.pop(name, None)
                        self._values[name] = value
                        return value
                    failure = (self._monotonic() + self._failure_seconds, None)
                self._failures[name] = failure
            if failure[1] is not None:
                raise failure[1]
            return None

    def _fetch(self, name: str) -> str | None:
        from google.api_core import exceptions as api_exceptions

        secret_id = name.lower().replace("_", "-")
        if not _SECRET_ID.fullmatch(secret_id):
            raise ConfigurationError("invalid secret name", code="secret_name")
        resource = f"projects/{self._project}/secrets/{secret_id}/versions/latest"
        if self._client is None:
            self._client = self._client_factory()
        try:
            response = self._client.access_secret_version(
                request={"name": resource}, retry=self._retry(), timeout=self._timeout
            )
        except api_exceptions.NotFound:
            _log.warning(
                "secret %s not found in project %s; treating it as not configured for %.0f s",
                secret_id,
                self._project,
                self._failure_seconds,
            )
            return None
        except api_exceptions.PermissionDenied as exc:
            _log.warning(
                "secret %s not readable in project %s (PermissionDenied); retrying in %.0f s",
                secret_id,
                self._project,
                self._failure_seconds,
            )
            raise ConfigurationError(
                f"secret {secret_id} is not readable by this function", code="secret_forbidden"
            ) from exc
        except api_exceptions.GoogleAPIError as exc:
            raise TransientError(
                f"could not read secret {secret_id}: {type(exc).__name__}",
                code="secret_unavailable",
            ) from exc
        try:
            value: str = response.payload.data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigurationError(
                f"secret {secret_id} is not UTF-8 text", code="secret_encoding"
            ) from None  # the cause would quote the secret's bytes
        return value or None

    def _retry(self) -> Any:
        if self._retry_deadline <= 0:
            return None
        from google.api_core import exceptions as api_exceptions
        from google.api_core import retry

        return retry.Retry(
            predicate=retry.if_exception_type(
                api_exceptions.ServiceUnavailable, api_exceptions.ResourceExhausted
            ),
            initial=self.RETRY_INITIAL_SECONDS,
            maximum=self.RETRY_MAXIMUM_SECONDS,
            multiplier=2.0,
            timeout=self._retry_deadline,
        )
