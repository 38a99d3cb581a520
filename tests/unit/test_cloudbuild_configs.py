"""What the three Cloud Build configs declare: CI (cloudbuild-ci.yaml) runs the repository's
code as an account with no deploy rights; the deploy build (cloudbuild.yaml) runs none of it,
only terraform in infra/; every substitution is declared, every image pinned."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import pytest
from cloudbuild_support import (
    BUILT_IN,
    CI,
    DEPLOY,
    PYTHON_IMAGE,
    SMOKE,
    load_config,
    references,
    steps_by_id,
)

from atende.packaging import REPO_ROOT

DEPLOY_STEPS = ["bundles", "terraform-init", "terraform-plan", "terraform-apply"]
CI_STEPS = ["lint", "tests", "package", "upload-bundles"]


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# -- both files -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [DEPLOY, CI, SMOKE], ids=["deploy", "ci", "smoke"])
def test_every_substitution_used_is_declared_or_built_in_and_every_declared_one_is_used(path):
    config = load_config(path)
    declared = set(config["substitutions"])
    assert all(name.startswith("_") for name in declared)
    used: set[str] = set()
    for step in config["steps"]:
        for text in _strings(step):
            used |= references(text)
    assert used - BUILT_IN <= declared, used - BUILT_IN - declared
    assert declared <= used, declared - used


@pytest.mark.parametrize("path", [DEPLOY, CI, SMOKE], ids=["deploy", "ci", "smoke"])
def test_logging_goes_to_cloud_logging_only_and_every_step_has_a_timeout(path):
    # Required with a user-specified service account (both builds run as their own).
    config = load_config(path)
    assert config["options"]["logging"] == "CLOUD_LOGGING_ONLY"
    assert re.fullmatch(r"\d+s", config["timeout"])
    assert all(re.fullmatch(r"\d+s", step["timeout"]) for step in config["steps"])
    total = sum(int(step["timeout"][:-1]) for step in config["steps"])
    assert total <= int(config["timeout"][:-1]), "the steps' timeouts exceed the build's"


@pytest.mark.parametrize("path", [DEPLOY, CI, SMOKE], ids=["deploy", "ci", "smoke"])
def test_steps_run_in_order_and_every_image_is_pinned(path):
    config = load_config(path)
    assert all("waitFor" not in step for step in config["steps"])
    for step in config["steps"]:
        image = step["name"]
        assert ":" in image and not image.endswith((":latest", ":stable", ":slim")), image
        if "google-cloud-cli" in image:
            assert re.search(r":\d+\.\d+\.\d+-stable$", image), image


# -- CI ---------------------------------------------------------------------------------------


def test_ci_runs_lint_then_tests_then_package_then_uploads_the_bundles(ci):
    assert [step["id"] for step in ci["steps"]] == CI_STEPS


def test_ci_python_steps_share_one_image_so_the_tested_venv_is_what_gets_packaged(ci):
    steps = steps_by_id(ci)
    images = {steps[name]["name"] for name in ("lint", "tests", "package")}
    assert images == {PYTHON_IMAGE}
    assert "make lint" in steps["lint"]["args"][-1]
    assert "make test" in steps["tests"]["args"][-1]
    assert "make package" in steps["package"]["args"][-1]
    # `make lint` is ruff check + format --check on the three trees, after `pip install -e
    # '.[dev]'`; if the Makefile stops doing that, the pipeline stops linting.
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "ruff check shared functions tests" in makefile
    assert "ruff format --check shared functions tests" in makefile
    assert "pip install --quiet -e '.[dev]'" in makefile
    # The upload takes build/: where `make package` writes.
    assert "atende package --out build" in makefile


def test_ci_test_step_installs_java_and_the_firestore_emulator_pinned(ci):
    script = steps_by_id(ci)["tests"]["args"][-1]
    assert "default-jre-headless" in script
    assert re.search(r"google-cloud-cli-firestore-emulator=\d+\.\d+\.\d+-0", script)
    assert re.search(r"terraform=\d+\.\d+\.\d+-1", script)


def test_ci_never_deploys(ci):
    for step in ci["steps"]:
        assert not step["name"].startswith("hashicorp/terraform"), step["id"]
        text = " ".join(_strings(step))
        assert not re.search(r"terraform (init|plan|apply)", text), step["id"]
    assert {"_STATE_BUCKET", "_PROD_CONFIRMED"}.isdisjoint(ci["substitutions"])


# -- the deploy build -------------------------------------------------------------------------


def test_deploy_takes_the_bundles_then_runs_terraform_init_plan_apply(deploy):
    assert [step["id"] for step in deploy["steps"]] == DEPLOY_STEPS


def test_deploy_runs_no_repository_code_or_dependencies(deploy):
    for step in deploy["steps"]:
        assert step["name"] != PYTHON_IMAGE, step["id"]
        text = " ".join(_strings(step))
        for command in ("make ", "pip ", "npm ", "python", ".venv", "atende "):
            assert command not in text, f"{step['id']} runs {command!r}"


def test_terraform_runs_in_a_pinned_image_in_infra(deploy):
    steps = steps_by_id(deploy)
    for name in ("terraform-init", "terraform-plan", "terraform-apply"):
        assert re.fullmatch(r"hashicorp/terraform:1\.11\.\d+", steps[name]["name"])
        assert steps[name]["dir"] == "infra"


def test_deploy_substitution_defaults(deploy):
    subs = deploy["substitutions"]
    assert subs["_ENV"] == "dev"
    assert subs["_REGION"] == "us-central1"
    assert subs["_CI_TRIGGER"] == "atende-ci"
    assert int(subs["_CI_WAIT_SECONDS"]) >= 3600  # the CI tests take most of an hour
    bundles_timeout = int(steps_by_id(deploy)["bundles"]["timeout"][:-1])
    assert bundles_timeout > int(subs["_CI_WAIT_SECONDS"])


def test_the_triggers_are_documented_with_approval_and_a_main_branch_filter():
    text = DEPLOY.read_text()
    assert "approvalConfig.approvalRequired: true" in text
    assert "^main$" in text
    assert "roles/cloudbuild.builds.approver" in text
