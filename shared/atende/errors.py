"""The one exception tree: every failure is either transient (retry) or permanent (record, stop).

Entry points map `TransientError` to 5xx so Cloud Tasks or the provider retries, and
`PermanentError` to a recorded 2xx (workers) or a 4xx (webhooks) so nobody retries forever.
Configuration (a missing secret, a grant not propagated yet) is transient: it can be fixed.
"""

from __future__ import annotations


class AtendeError(Exception):
    """Root of every error Atende raises on purpose."""

    #: A short, stable, PII-free code for logs, audit entries and metrics.
    code: str = "atende_error"
    #: Provider HTTP attempts behind this error, and their PII-free reasons, oldest first.
    attempts: int = 0
    failures: tuple[str, ...] = ()

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        if code is not None:
            self.code = code


class TransientError(AtendeError):
    """Worth retrying later: timeouts, 5xx, throttling, contention, an open breaker."""

    code = "transient"


class PermanentError(AtendeError):
    """Retrying cannot help: the input or the request is wrong for good."""

    code = "permanent"


class ConfigurationError(TransientError):
    """Settings or secrets are missing, invalid or not readable yet; fail closed.

    Transient on purpose: an operator can fix a secret, a grant or a setting, and the work
    waiting on it must then go through (a queue retries it until its dead letter)."""

    code = "configuration"


class SignatureError(PermanentError):
    """A webhook's signature or verification token is missing or wrong."""

    code = "bad_signature"


class MalformedPayloadError(PermanentError):
    """A body that is not what its provider documents (not JSON, wrong shape)."""

    code = "malformed_payload"


class UnauthorizedCallerError(PermanentError):
    """A worker was called without valid task credentials."""

    code = "unauthorized_caller"


class InvalidOutboundMessageError(PermanentError):
    """An outbound message breaks a documented provider limit; never sent."""

    code = "invalid_outbound_message"


class ProviderPermanentError(PermanentError):
    """The provider refused a request for good (for example 4xx, outside the 24-hour window)."""

    code = "provider_permanent"


class ProviderTransientError(TransientError):
    """The provider failed in a way that may pass (timeouts, 5xx, 429, throttling codes)."""

    code = "provider_transient"


class WaitingForEarlierReplyError(TransientError):
    """An earlier reply of the same session is not settled yet; send this one later."""

    code = "waiting_for_earlier_reply"


class SessionNotFoundError(PermanentError):
    """A request names a session that does not exist (or belongs to another tenant)."""

    code = "session_not_found"
