"""Builds the Firestore client once per instance (the emulator is picked up from
FIRESTORE_EMULATOR_HOST by the client itself)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from atende.errors import TransientError

T = TypeVar("T")

#: Bounded retries of a transaction that lost a conflict; beyond that the task is retried.
TRANSACTION_ATTEMPTS = 5


def make_client(project: str) -> Any:
    from google.cloud import firestore

    return firestore.Client(project=project)


def is_transient(error: BaseException) -> bool:
    from google.api_core import exceptions

    return isinstance(
        error,
        exceptions.Aborted
        | exceptions.FailedPrecondition
        | exceptions.ServiceUnavailable
        | exceptions.DeadlineExceeded
        | exceptions.InternalServerError
        | exceptions.TooManyRequests
        | exceptions.ResourceExhausted,
    )


def run_transaction(client: Any, body: Callable[[Any], T]) -> T:
    """Run `body` in a transaction, retried on conflict; infrastructure trouble that
    outlasts the retries becomes a TransientError (the task is retried later)."""
    result, _ = run_transaction_at(client, body)
    return result


def run_transaction_at(client: Any, body: Callable[[Any], T]) -> tuple[T, Any]:
    """`run_transaction`, with the commit's time: the update time of every document the
    transaction wrote (None when it wrote nothing)."""
    from google.cloud import firestore

    transaction = client.transaction(max_attempts=TRANSACTION_ATTEMPTS)
    try:
        result: T = firestore.transactional(body)(transaction)
    except Exception as error:
        # The client gives up on a conflict it kept losing with a ValueError whose cause is
        # the last ABORTED: still a conflict, still worth retrying later.
        if is_transient(error) or (error.__cause__ is not None and is_transient(error.__cause__)):
            raise TransientError("firestore unavailable or contended", code="firestore") from error
        raise
    return result, getattr(transaction, "commit_time", None)
