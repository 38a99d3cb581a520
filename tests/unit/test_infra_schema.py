"""infra/ against the real schema of the pinned providers, offline (tests/infra_schema).

`terraform validate` cannot download providers here, so a misspelt argument or a block nested
in the wrong place would first show in a real `terraform plan`. The schema comes from the cdktf
packages generated from exactly the provider versions infra/versions.tf pins
(`make infra-check` installs them into .cache/tfschema).

Here: infra/ itself and its pins. The checker's own findings, on small files written for
each case, are tested in test_infra_schema_blocks.py and test_infra_schema_names.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from infra_schema_support import load_checker
from tests.infra_schema import pins
from tests.infra_schema.checker import Checker
from tests.infra_schema.schema import SchemaError, check_installed


def test_infra_matches_the_schema_of_its_pinned_providers(checker: Checker) -> None:
    problems = [str(problem) for problem in checker.check(pins.INFRA)]
    assert problems == [], "infra/ would fail `terraform validate`:\n" + "\n".join(problems)


def test_each_pinned_provider_is_checked_against_the_package_built_from_it(
    checker: Checker,
) -> None:
    declared = pins.declared_pins()
    assert {"google", "archive"} <= set(declared)
    for pin in pins.pins():
        assert declared[pin.name] == (pin.source, f"= {pin.version}")
        check_installed(pin)  # the installed package says it was generated from that version


def test_moving_a_pin_without_its_schema_package_fails(tmp_path: Path) -> None:
    (tmp_path / "versions.tf").write_text(
        (pins.INFRA / "versions.tf").read_text().replace('"= 6.50.0"', '"= 6.51.0"')
    )
    with pytest.raises(
        pins.PinError, match=r"pins hashicorp/google 6\.51\.0.*@cdktf/provider-google"
    ):
        pins.pins(tmp_path)


def test_a_loose_pin_fails(tmp_path: Path) -> None:
    (tmp_path / "versions.tf").write_text(
        (pins.INFRA / "versions.tf").read_text().replace('"= 6.50.0"', '"~> 6.50"')
    )
    with pytest.raises(pins.PinError, match="pin one exact version"):
        pins.pins(tmp_path)


def test_a_module_pinning_another_version_fails(tmp_path: Path) -> None:
    versions = (pins.INFRA / "versions.tf").read_text()
    (tmp_path / "versions.tf").write_text(versions)
    (tmp_path / "modules" / "m").mkdir(parents=True)
    (tmp_path / "modules" / "m" / "versions.tf").write_text(
        versions.replace('"= 2.7.1"', '"= 2.7.0"')
    )
    with pytest.raises(pins.PinError, match="pin one version everywhere"):
        pins.pins(tmp_path)


def test_missing_schema_packages_fail_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pins, "CACHE", tmp_path / "empty")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"missing: .*is not installed.*pins install"):
        load_checker()
    monkeypatch.delenv("CI")
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(pytest.skip.Exception, match="npm is not installed"):
        load_checker()


def test_a_package_built_from_another_provider_version_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin = next(pin for pin in pins.pins() if pin.name == "google")
    monkeypatch.setattr(pins, "CACHE", tmp_path)
    pin.package_dir.mkdir(parents=True)
    (pin.package_dir / "package.json").write_text(
        json.dumps({"version": "16.11.0", "cdktf": {"provider": {"version": "6.49.0"}}})
    )
    with pytest.raises(SchemaError, match=r"16\.11\.0 built from hashicorp/google 6\.49\.0"):
        check_installed(pin)
