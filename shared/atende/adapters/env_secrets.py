"""Secrets from the environment, then a `.env` file: the local and test `SecretSource`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from dotenv import dotenv_values


class EnvSecretSource:
    """Reads a secret from the environment, else from a `.env` file; empty counts as unset."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        dotenv_path: str | os.PathLike[str] | None = ".env",
    ) -> None:
        # os.environ itself (not a copy), so a variable set after construction is seen.
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._dotenv_path = dotenv_path
        self._dotenv: dict[str, str | None] | None = None

    def get(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value:
            return value
        return self._file_values().get(name) or None

    def _file_values(self) -> dict[str, str | None]:
        # Read once, on first use. Two threads may both read it the first time; the result
        # is the same, so no lock.
        if self._dotenv is None:
            if self._dotenv_path is None or not os.path.isfile(self._dotenv_path):
                # Never dotenv_values(None): that searches parent directories for a file.
                self._dotenv = {}
            else:
                # No interpolation: a secret containing "${...}" must come back verbatim.
                self._dotenv = dotenv_values(self._dotenv_path, interpolate=False)
        return self._dotenv
