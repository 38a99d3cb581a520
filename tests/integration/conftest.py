"""Integration fixtures: one Firestore emulator for the session, wiped before every test."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from atende.devstack.firestore_emulator import FirestoreEmulator
from atende.devstack.processes import free_port

PROJECT = "atende-it"


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirestoreEmulator]:
    run_dir: Path = tmp_path_factory.mktemp("firestore")
    emulator = FirestoreEmulator(free_port(), PROJECT, run_dir)
    emulator.start()
    previous = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
    try:
        yield emulator
    finally:
        emulator.stop()
        if previous is None:
            os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
        else:
            os.environ["FIRESTORE_EMULATOR_HOST"] = previous


@pytest.fixture
def db(firestore_emulator: FirestoreEmulator):
    from google.cloud import firestore

    firestore_emulator.wipe()
    client = firestore.Client(project=PROJECT)
    yield client
    client.close()
