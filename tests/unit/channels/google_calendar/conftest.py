"""Fixtures of the Google Calendar unit tests."""

from __future__ import annotations

import pytest
from gcal_support import FixedClock, MemoryState, secret_source

from atende.adapters.env_secrets import EnvSecretSource


@pytest.fixture
def secrets() -> EnvSecretSource:
    return secret_source()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def state() -> MemoryState:
    return MemoryState()
