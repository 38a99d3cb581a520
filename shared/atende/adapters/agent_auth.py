"""Who may act as an agent: a CRM holding the deployment's agent API token (Bearer).

Fails closed: with no token configured, nobody is let in.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from atende.adapters.task_auth import header_value
from atende.errors import ConfigurationError, UnauthorizedCallerError

#: The secret's name (an environment variable locally, `atende-agent-api-token` in Secret
#: Manager).
AGENT_API_TOKEN = "ATENDE_AGENT_API_TOKEN"  # noqa: S105 - a secret's name


class BearerTokenAuthenticator:
    def __init__(self, token: str | None) -> None:
        self._token = token

    def authenticate(self, headers: Mapping[str, str]) -> None:
        if not self._token:
            raise ConfigurationError("no agent API token configured", code="agent_token_missing")
        scheme, _, given = (header_value(headers, "authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise UnauthorizedCallerError("missing_token", code="missing_token")
        if not hmac.compare_digest(given.strip().encode("utf-8"), self._token.encode("utf-8")):
            raise UnauthorizedCallerError("wrong_token", code="wrong_token")
