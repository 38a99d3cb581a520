"""The local stand-in for Secret Manager's IAM: a function reads only the secrets
`atende.deployment` declares for it, as its own service account would in the cloud.

The dev stack writes `atende.deployment.grants()` to a file and names it in
`ATENDE_LOCAL_GRANTS_FILE`; each function's container wraps its secret source in this. A
secret that is not declared fails like an ungranted one in the cloud (Secret Manager answers
PermissionDenied): a transient ConfigurationError, so the test that needs it fails loudly
instead of the code quietly reading a secret its deployment will never give it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from atende.errors import ConfigurationError
from atende.ports import SecretSource

logger = logging.getLogger(__name__)


class DeclaredSecrets:
    def __init__(self, inner: SecretSource, function: str, allowed: frozenset[str]) -> None:
        self._inner = inner
        self._function = function
        self._allowed = allowed

    @classmethod
    def from_grants_file(
        cls, inner: SecretSource, function: str, path: str, also: frozenset[str] = frozenset()
    ) -> DeclaredSecrets:
        """`also`: local-only secrets with no cloud counterpart (the shared task secret that
        stands in for OIDC tokens)."""
        try:
            grants = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise ConfigurationError(
                f"cannot read the local grants file {path}", code="grants_file"
            ) from error
        declared = grants.get(function, {}).get("secrets", [])
        return cls(inner, function, frozenset(declared) | also)

    def get(self, name: str) -> str | None:
        if name not in self._allowed:
            logger.error(
                "secret not granted to this function",
                extra={"json_fields": {"function": self._function, "secret": name}},
            )
            raise ConfigurationError(
                f"{self._function} may not read secret {name}: atende.deployment does not "
                f"declare it for this function",
                code="secret_not_granted",
            )
        return self._inner.get(name)
