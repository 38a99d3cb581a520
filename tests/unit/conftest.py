"""Fixtures several unit test files share: the deploy and CI Cloud Build configs (the
`test_cloudbuild_*` files), the infra schema checker (the `test_infra_schema*` files), and
infra/ parsed with the functions the code declares (`test_infra_wiring`, `test_infra_resources`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from cloudbuild_support import CI, DEPLOY, load_config
from infra_schema_support import load_checker
from infra_wiring_support import Terraform, load_terraform
from tests.infra_schema.checker import Checker

if TYPE_CHECKING:
    from atende.deployment import FunctionSpec


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load_config(DEPLOY)


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return load_config(CI)


@pytest.fixture(scope="session")
def checker() -> Checker:
    return load_checker()


@pytest.fixture(scope="module")
def tf() -> Terraform:
    return load_terraform()


@pytest.fixture(scope="module")
def declared() -> dict[str, FunctionSpec]:
    # Imported here: an import error in the code under test then fails the tests that use
    # it, not the collection of every unit test.
    from atende.deployment import functions

    return {spec.name: spec for spec in functions()}
