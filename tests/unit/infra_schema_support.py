"""The schema checker of tests/infra_schema as the unit tests use it: loaded with the
packages of infra/'s pins, and run on a few Terraform files written for one test."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest
from tests.infra_schema import pins
from tests.infra_schema.checker import Checker
from tests.infra_schema.schema import SchemaError, check_installed


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def load_checker() -> Checker:
    """The checker, with the schema packages of infra/'s pins. Missing ones fail the tests in
    CI and wherever npm could install them; elsewhere they skip, saying why."""
    wanted = pins.pins()
    try:
        for pin in wanted:
            check_installed(pin)
    except SchemaError as error:
        if _in_ci() or shutil.which("npm") is not None:
            pytest.fail(f"the provider schema packages are missing: {error}")
        pytest.skip(f"npm is not installed, so the provider schema cannot be: {error}")
    return Checker(wanted)


def check_files(checker: Checker, root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return [str(problem) for problem in checker.check(root)]
