"""The Firestore emulator, run straight from its jar with java (never the gcloud wrapper,
which leaves the JVM behind when stopped)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from atende.devstack.processes import ManagedProcess, ensure_port_free, wait_http

logger = logging.getLogger(__name__)

JAR_ENV = "ATENDE_FIRESTORE_EMULATOR_JAR"
_JAR_IN_SDK = Path("platform/cloud-firestore-emulator/cloud-firestore-emulator.jar")
_MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
_INSTALL_HINT = (
    "Install it with `apt-get install google-cloud-cli-firestore-emulator` (Debian package "
    "google-cloud-cli-firestore-emulator, from Google's Cloud SDK apt repository) or "
    "`gcloud components install cloud-firestore-emulator`, or point "
    f"{JAR_ENV} at cloud-firestore-emulator.jar."
)


class EmulatorNotInstalledError(RuntimeError):
    """A local emulator (or what runs it) is missing; the message says how to install it."""


def _sdk_roots() -> Iterator[Path]:
    """Candidate Cloud SDK roots, the cheap guesses first and `gcloud info` last."""
    gcloud = shutil.which("gcloud")
    if gcloud:
        # <sdk>/bin/gcloud, usually reached through a symlink such as /usr/bin/gcloud.
        yield Path(gcloud).resolve().parent.parent
    yield Path("/usr/lib/google-cloud-sdk")
    yield Path("/usr/share/google-cloud-sdk")
    if gcloud:
        try:
            out = subprocess.run(
                [gcloud, "info", "--format=value(installation.sdk_root)"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        if out:
            yield Path(out)


def find_firestore_jar() -> Path:
    """Where cloud-firestore-emulator.jar is: $ATENDE_FIRESTORE_EMULATOR_JAR or the Cloud SDK.

    Raises EmulatorNotInstalledError, saying how to install it, when it is nowhere.
    """
    override = os.environ.get(JAR_ENV)
    if override:
        jar = Path(override)
        if not jar.is_file():
            raise EmulatorNotInstalledError(f"{JAR_ENV}={override} is not a file. {_INSTALL_HINT}")
        return jar
    for root in _sdk_roots():
        jar = root / _JAR_IN_SDK
        if jar.is_file():
            return jar
    raise EmulatorNotInstalledError(f"The Firestore emulator is not installed. {_INSTALL_HINT}")


def find_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise EmulatorNotInstalledError(
            "The Firestore emulator needs Java 11 or newer: `apt-get install default-jre-headless`."
        )
    return java


class FirestoreEmulator:
    """`FirestoreEmulator(port, project, run_dir)`: start(), stop(), wipe(), host."""

    def __init__(
        self,
        port: int,
        project: str,
        run_dir: Path,
        *,
        jar: Path | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.port = port
        self.project = project
        self.run_dir = run_dir
        self.jar = jar
        self.start_timeout = start_timeout
        self.process: ManagedProcess | None = None

    @property
    def host(self) -> str:
        """host:port, the value of FIRESTORE_EMULATOR_HOST."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self) -> None:
        jar = self.jar or find_firestore_jar()
        # Another emulator on the port would answer our readiness probe in our place.
        ensure_port_free(self.port, "Firestore emulator")
        argv = [
            find_java(),
            "-Duser.language=en",
            "-cp",
            str(jar),
            _MAIN_CLASS,
            "start",
            "--host=127.0.0.1",
            f"--port={self.port}",
        ]
        self.process = ManagedProcess(
            "firestore-emulator",
            argv,
            dict(os.environ),
            self.run_dir / "firestore-emulator.log",
            cwd=self.run_dir,
        )
        self.process.start()
        try:
            wait_http(f"{self.url}/", self.start_timeout, self.process)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def wipe(self) -> None:
        """Delete every document of the project's (default) database."""
        url = f"{self.url}/emulator/v1/projects/{self.project}/databases/(default)/documents"
        request = urllib.request.Request(url, method="DELETE")  # noqa: S310 - our loopback URL
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=30) as response:
            response.read()

    def __enter__(self) -> FirestoreEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
