"""Builds the Firestore client once per instance (the emulator is picked up from
FIRESTORE_EMULATOR_HOST by the client itself)."""

from __future__ import annotations

from typing import Any

#: Bounded retries of a transaction that lost a conflict; beyond that the task is retried.
TRANSACTION_ATTEMPTS = 5


def make_client(project: str) -> Any:
    from google.cloud import firestore

    return firestore.Client(project=project)


def is_conflict(error: Exception) -> bool:
    """A lost write race: safe to retry the whole unit of work later."""
    from google.api_core import exceptions

    return isinstance(error, exceptions.Aborted | exceptions.FailedPrecondition)


def is_transient(error: Exception) -> bool:
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
