"""Tenant configuration in Firestore (`tenants/{id}`), validated on load, cached briefly.

A stored configuration that does not validate is logged once per cache period as one clear
error, and the default flow runs: a typo in the CRM's settings never stops conversations.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from atende.adapters.firestore import codec
from atende.errors import TransientError
from atende.tenants.tenant_config import DEFAULT_CONFIG, TenantConfig

logger = logging.getLogger(__name__)


def describe(error: ValidationError) -> str:
    """Where and what, without the offending values (they may be anything)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or '(document)'}: {item['msg']}"
        for item in error.errors(include_input=False, include_url=False)
    )


class FirestoreTenantStore:
    def __init__(
        self,
        client: Any,
        ttl_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = client
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, TenantConfig]] = {}
        self._lock = threading.Lock()

    def _ref(self, tenant_id: str) -> Any:
        return self._db.collection(codec.TENANTS).document(tenant_id)

    def load(self, tenant_id: str) -> dict[str, Any] | None:
        """The stored document as it is, or None."""
        from google.api_core.exceptions import GoogleAPICallError

        try:
            snapshot = self._ref(tenant_id).get()
        except GoogleAPICallError as error:
            raise TransientError(
                "tenant configuration unreachable", code="store_unavailable"
            ) from error
        return snapshot.to_dict() if snapshot.exists else None

    def save(self, tenant_id: str, config: TenantConfig) -> None:
        self._ref(tenant_id).set(config.model_dump(mode="json"))
        with self._lock:
            self._cache.pop(tenant_id, None)

    def get(self, tenant_id: str) -> TenantConfig:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(tenant_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        config = self._validated(tenant_id, self.load(tenant_id))
        with self._lock:
            self._cache[tenant_id] = (now, config)
        return config

    @staticmethod
    def _validated(tenant_id: str, document: dict[str, Any] | None) -> TenantConfig:
        if document is None:
            return DEFAULT_CONFIG
        try:
            return TenantConfig.model_validate(document)
        except ValidationError as error:
            logger.error(
                "tenant configuration is invalid; using the default flow",
                extra={"json_fields": {"tenant": tenant_id, "errors": describe(error)}},
            )
            return DEFAULT_CONFIG
