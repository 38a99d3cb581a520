"""`ConversationAI` over the official `openai` client (OpenAI or any compatible endpoint).

One suggestion is one chat completion with a strict JSON-schema response format. A contact is
waiting, so failures are cut short: a timeout per attempt, at most one quick retry of a
transient failure, and a circuit breaker that fails fast while the endpoint is down. Every
failure becomes `AiUnavailableError` with a short reason, and the engine answers without AI.

An adapter, not part of `atende.ai`: the prompt, contract and validation stay pure, and only
this module pulls in `openai`, `pybreaker` and `tenacity`.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Final

import openai
import pybreaker
from pydantic import ValidationError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random

from atende.ai import prompt
from atende.ai.contract import AiReply, AiRequest, AiUnavailableError
from atende.ai.settings import AiSettings

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

logger = logging.getLogger(__name__)

#: Worth one more try: the next attempt may well succeed.
RETRYABLE: Final = frozenset({"timeout", "rate_limited", "http_5xx", "unreachable"})
MAX_ATTEMPTS: Final = 2
#: Jittered and short: a long Retry-After is never honoured, the contact is waiting.
RETRY_WAIT_SECONDS: Final = (0.05, 0.3)
TEMPERATURE: Final = 0.2


class OpenAiConversation:
    """Thread-safe; one per process, so the breaker sees every call to the endpoint."""

    def __init__(self, settings: AiSettings, api_key: str) -> None:
        self._settings = settings
        self._api_key = api_key
        self._client: openai.OpenAI | None = None
        self._client_lock = threading.Lock()
        # A bad output means the endpoint answered: it must not open the breaker. Tripping
        # re-raises the failure itself, so its reason is kept.
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=settings.breaker_fail_max,
            reset_timeout=settings.breaker_reset_seconds,
            exclude=[_endpoint_was_up],
            name="openai",
            throw_new_error_on_trip=False,
        )

    def suggest(self, request: AiRequest) -> AiReply:
        attempts = 0

        def attempt() -> AiReply:
            nonlocal attempts
            attempts += 1
            return self._complete(request)

        retrying = Retrying(
            stop=stop_after_attempt(MAX_ATTEMPTS),
            wait=wait_random(*RETRY_WAIT_SECONDS),
            retry=retry_if_exception(_worth_retrying),
            reraise=True,
        )
        try:
            # `calling()` takes the breaker's lock only to check and record the outcome;
            # `call()` would hold it for the whole HTTP call and serialize concurrent ones.
            with self._breaker.calling():
                reply: AiReply = retrying(attempt)
        except pybreaker.CircuitBreakerError:
            self._log_failure("breaker_open", attempts)
            raise AiUnavailableError("breaker_open") from None
        except AiUnavailableError as error:
            self._log_failure(error.reason, attempts)
            raise
        return reply

    def _complete(self, request: AiRequest) -> AiReply:
        try:
            completion = self._openai().chat.completions.create(
                model=request.model or self._settings.model,
                messages=prompt.messages(request),
                response_format=prompt.response_format(request),
                temperature=TEMPERATURE,
            )
        except openai.OpenAIError as error:
            # Chained for debuggers only: the message may quote the request's text.
            raise AiUnavailableError(_reason(error)) from error
        return _parse(completion)

    def _openai(self) -> openai.OpenAI:
        """Created on first use: an engine with AI disabled never builds one."""
        with self._client_lock:
            if self._client is None:
                self._client = openai.OpenAI(
                    base_url=self._settings.base_url,
                    api_key=self._api_key,
                    timeout=self._settings.timeout_seconds,
                    max_retries=0,
                )
            return self._client

    def close(self) -> None:
        """Release the HTTP connections (tests, shutdown); a later call opens new ones."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    @staticmethod
    def _log_failure(reason: str, attempts: int) -> None:
        # The reason and count only: an error's text may quote the conversation.
        logger.warning(
            "AI suggestion failed: %s",
            reason,
            extra={"json_fields": {"reason": reason, "attempts": attempts}},
        )


def _parse(completion: ChatCompletion) -> AiReply:
    choice = completion.choices[0] if completion.choices else None
    content = choice.message.content if choice is not None else None
    if not content:
        # Also a refusal: the model answered, but not with a reply.
        raise AiUnavailableError("invalid_output")
    try:
        return AiReply.model_validate_json(content)
    except ValidationError:
        raise AiUnavailableError("invalid_output") from None


def _reason(error: openai.OpenAIError) -> str:
    if isinstance(error, openai.APITimeoutError):  # before its parent, APIConnectionError
        return "timeout"
    if isinstance(error, openai.APIConnectionError):
        return "unreachable"
    if isinstance(error, openai.RateLimitError):
        return "rate_limited"
    if isinstance(error, openai.APIStatusError):
        return "http_5xx" if error.status_code >= 500 else "http_4xx"
    if isinstance(error, openai.APIResponseValidationError):
        return "invalid_output"
    return "unreachable"


def _worth_retrying(error: BaseException) -> bool:
    return isinstance(error, AiUnavailableError) and error.reason in RETRYABLE


def _endpoint_was_up(error: BaseException) -> bool:
    return isinstance(error, AiUnavailableError) and error.reason == "invalid_output"
