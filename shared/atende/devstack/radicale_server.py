"""A real CalDAV server (Radicale) on 127.0.0.1, for the Apple Calendar tests and the dev
stack: its own storage folder and htpasswd file under a run directory, one user, one
calendar collection created at start.

    with RadicaleServer(run_dir) as server:
        server.calendar_url      # http://127.0.0.1:<port>/<user>/<calendar>/
        server.env("demo")       # what the functions need to poll it for tenant "demo"

The password file is plain text (Radicale's `plain` htpasswd method): it holds a throwaway
dev password in a private directory and keeps this module free of hashing libraries.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import TracebackType

import requests

from atende.devstack.processes import ManagedProcess, free_port, wait_http

DEV_USERNAME = "atende-dev"
DEV_PASSWORD = "dev-app-password"  # noqa: S105 - dev-only default
DEV_CALENDAR = "atende"
#: Where the functions find it: the same names as for iCloud.
CALENDARS_ENV = "ATENDE_APPLE_CALENDAR_CALENDARS"
USERNAME_ENV = "ATENDE_APPLE_CALENDAR_USERNAME"
PASSWORD_ENV = "APPLE_CALENDAR_APP_PASSWORD"  # noqa: S105 - a variable name
CREATED, MULTI_STATUS = 201, 207


class RadicaleServer:
    def __init__(
        self,
        run_dir: Path,
        port: int | None = None,
        *,
        username: str = DEV_USERNAME,
        password: str = DEV_PASSWORD,
        calendar: str = DEV_CALENDAR,
        start_timeout: float = 30.0,
    ) -> None:
        self.run_dir = run_dir.resolve() / "radicale"
        self.port = port or free_port()
        self.username = username
        self.password = password
        self.calendar = calendar
        self.start_timeout = start_timeout
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = ManagedProcess(
            "radicale",
            [sys.executable, "-m", "radicale", "--config", str(self.run_dir / "config")],
            _child_env(),
            self.run_dir / "radicale.log",
            cwd=self.run_dir,
        )

    @property
    def calendar_url(self) -> str:
        return self.collection_url(self.calendar)

    def collection_url(self, name: str) -> str:
        return f"{self.base_url}/{self.username}/{name}/"

    def env(self, tenant_id: str = "demo") -> dict[str, str]:
        """The settings and secret that make the poll job read this calendar for `tenant_id`."""
        return {
            CALENDARS_ENV: json.dumps({self.calendar_url: tenant_id}),
            USERNAME_ENV: self.username,
            PASSWORD_ENV: self.password,
        }

    def _write_files(self) -> None:
        storage = self.run_dir / "collections"
        storage.mkdir(parents=True, exist_ok=True)
        os.chmod(self.run_dir, 0o700)
        users = self.run_dir / "users"
        users.write_text(f"{self.username}:{self.password}\n", encoding="utf-8")
        os.chmod(users, 0o600)
        config = f"""[server]
hosts = 127.0.0.1:{self.port}

[auth]
type = htpasswd
htpasswd_filename = {users}
htpasswd_encryption = plain
# A refused password answers quickly (the default waits a second).
delay = 0.05

[rights]
type = owner_only

[storage]
filesystem_folder = {storage}

[web]
type = none

[logging]
level = warning
mask_passwords = True
"""
        (self.run_dir / "config").write_text(config, encoding="utf-8")

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._write_files()
        self.process.start()
        try:
            wait_http(f"{self.base_url}/", self.start_timeout, self.process)
            self.make_calendar(self.calendar)
        except BaseException:
            self.process.stop()
            raise

    def make_calendar(self, name: str) -> str:
        """The URL of the calendar collection `name`, made with MKCALENDAR (RFC 4791 §5.3.1)
        unless it exists (a dev stack keeps its storage between runs)."""
        url = self.collection_url(name)
        auth = (self.username, self.password)
        found = requests.request("PROPFIND", url, auth=auth, headers={"Depth": "0"}, timeout=10)
        if found.status_code == MULTI_STATUS:
            return url
        made = requests.request("MKCALENDAR", url, auth=auth, timeout=10)
        if made.status_code != CREATED:
            raise RuntimeError(f"MKCALENDAR {url} answered {made.status_code}")
        return url

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> RadicaleServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _child_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ATENDE_", "RADICALE_")) and key != PASSWORD_ENV
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env
