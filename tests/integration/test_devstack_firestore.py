"""The Firestore emulator from its jar: start, serve the real client, wipe, stop."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import firestore

from atende.devstack.firestore_emulator import (
    JAR_ENV,
    EmulatorNotInstalledError,
    FirestoreEmulator,
    find_firestore_jar,
)
from atende.devstack.processes import free_port

pytestmark = pytest.mark.emulator

PROJECT = "devstack-firestore-test"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirestoreEmulator]:
    with FirestoreEmulator(free_port(), PROJECT, tmp_path_factory.mktemp("fs")) as running:
        yield running


@pytest.fixture
def client(
    emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[firestore.Client]:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
    db = firestore.Client(project=PROJECT)
    yield db
    db.close()


def test_binds_loopback_and_answers_ok(emulator: FirestoreEmulator) -> None:
    assert emulator.host == f"127.0.0.1:{emulator.port}"
    with urllib.request.urlopen(f"http://{emulator.host}/", timeout=5) as response:
        assert response.read().strip() == b"Ok"


def test_real_client_writes_and_wipe_empties_the_database(
    emulator: FirestoreEmulator, client: firestore.Client
) -> None:
    client.collection("sessions").document("s1").set({"version": 1, "state": "open"})
    client.collection("outbox").document("k1").collection("attempts").document("a").set({"n": 1})
    assert client.collection("sessions").document("s1").get().to_dict() == {
        "version": 1,
        "state": "open",
    }

    emulator.wipe()

    assert not client.collection("sessions").document("s1").get().exists
    assert list(client.collection("outbox").document("k1").collection("attempts").stream()) == []
    assert list(client.collections()) == []


def test_stop_frees_the_port(tmp_path: Path) -> None:
    started = time.monotonic()
    emulator = FirestoreEmulator(free_port(), PROJECT, tmp_path)
    emulator.start()
    assert time.monotonic() - started < 30
    assert emulator.process is not None
    java = emulator.process.pid
    emulator.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://{emulator.host}/", timeout=2)
    assert java is not None
    with pytest.raises(ProcessLookupError):
        os.kill(java, 0)


def test_missing_jar_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(JAR_ENV, str(tmp_path / "nope.jar"))
    with pytest.raises(EmulatorNotInstalledError, match="apt-get install google-cloud-cli-fire"):
        find_firestore_jar()
    with pytest.raises(EmulatorNotInstalledError):
        FirestoreEmulator(free_port(), PROJECT, tmp_path).start()


def test_jar_override_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    jar = tmp_path / "cloud-firestore-emulator.jar"
    jar.write_bytes(b"")
    monkeypatch.setenv(JAR_ENV, str(jar))
    assert find_firestore_jar() == jar
