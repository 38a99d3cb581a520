"""cloudbuild.yaml: the step order, its substitutions, and the production guard.

The terraform steps' shell scripts are run for real (with `sh` and a stub `terraform` that
records its arguments), after the same substitution Cloud Build does, so the guard is
tested by what it does, not by how it reads.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from atende.packaging import REPO_ROOT

CONFIG = REPO_ROOT / "cloudbuild.yaml"
STEP_ORDER = ["lint", "tests", "package", "terraform-init", "terraform-plan", "terraform-apply"]
# https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values
BUILT_IN = {
    "PROJECT_ID", "PROJECT_NUMBER", "BUILD_ID", "LOCATION", "TRIGGER_NAME", "COMMIT_SHA",
    "REVISION_ID", "SHORT_SHA", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME",
    "REF_NAME", "TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT",
}  # fmt: skip
# `$$` is a literal `$`; `$NAME` and `${NAME}` are substitutions.
_REFERENCE = re.compile(r"\$(?:\$|\{(\w+)\}|(\w+))")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded = yaml.safe_load(CONFIG.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _steps(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in config["steps"]}


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _references(text: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in _REFERENCE.finditer(text) if m.group(0) != "$$"}


def substitute(text: str, values: Mapping[str, str]) -> str:
    """What Cloud Build does to a step's strings before running it (KeyError if unknown)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return values[match.group(1) or match.group(2)]

    return _REFERENCE.sub(replace, text)


def test_steps_run_lint_then_tests_then_package_then_terraform_init_plan_apply(config):
    assert [step["id"] for step in config["steps"]] == STEP_ORDER
    # Sequential: no step starts early (waitFor would let it).
    assert all("waitFor" not in step for step in config["steps"])


def test_python_steps_share_one_image_so_the_tested_venv_is_what_gets_packaged(config):
    steps = _steps(config)
    images = {steps[name]["name"] for name in ("lint", "tests", "package")}
    assert images == {"python:3.12-bookworm"}
    assert "make lint" in steps["lint"]["args"][-1]
    assert "make test" in steps["tests"]["args"][-1]
    assert "make package" in steps["package"]["args"][-1]
    # `make lint` is ruff check + format --check on the three trees, after `pip install -e
    # '.[dev]'`; if the Makefile stops doing that, the pipeline stops linting.
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "ruff check shared functions tests" in makefile
    assert "ruff format --check shared functions tests" in makefile
    assert "pip install --quiet -e '.[dev]'" in makefile
    # terraform-plan passes bundle_dir=build: where `make package` writes.
    assert "atende package --out build" in makefile


def test_the_test_step_installs_java_and_the_firestore_emulator_pinned(config):
    script = _steps(config)["tests"]["args"][-1]
    assert "default-jre-headless" in script
    assert re.search(r"google-cloud-cli-firestore-emulator=\d+\.\d+\.\d+-0", script)


def test_terraform_runs_in_a_pinned_image_in_infra(config):
    steps = _steps(config)
    for name in ("terraform-init", "terraform-plan", "terraform-apply"):
        assert re.fullmatch(r"hashicorp/terraform:1\.11\.\d+", steps[name]["name"])
        assert steps[name]["dir"] == "infra"


def test_every_substitution_used_is_declared_or_built_in_and_every_declared_one_is_used(config):
    declared = set(config["substitutions"])
    assert all(name.startswith("_") for name in declared)
    used: set[str] = set()
    for step in config["steps"]:
        for text in _strings(step):
            used |= _references(text)
    assert used - BUILT_IN <= declared, used - BUILT_IN - declared
    assert declared <= used, declared - used
    assert config["substitutions"]["_ENV"] == "dev"
    assert config["substitutions"]["_REGION"] == "us-central1"


def test_logging_goes_to_cloud_logging_only_and_the_build_has_a_timeout(config):
    assert config["options"]["logging"] == "CLOUD_LOGGING_ONLY"
    assert re.fullmatch(r"\d+s", config["timeout"])
    assert all(re.fullmatch(r"\d+s", step["timeout"]) for step in config["steps"])


def test_the_production_trigger_is_documented_with_approval_and_a_main_branch_filter():
    text = CONFIG.read_text()
    assert "approvalConfig.approvalRequired: true" in text
    assert "^main$" in text


# -- the terraform steps, run -----------------------------------------------------------------


def _values(config: Mapping[str, Any], **overrides: str) -> dict[str, str]:
    values = {name: "" for name in BUILT_IN}
    values.update(PROJECT_ID="atende-test", BRANCH_NAME="feature/x")
    values.update({name: str(value) for name, value in config["substitutions"].items()})
    values.update(overrides)
    return values


def run_step(
    config: Mapping[str, Any], step_id: str, tmp_path: Path, **overrides: str
) -> tuple[subprocess.CompletedProcess[str], list[str] | None]:
    """Run a step's command with `terraform` stubbed; the terraform argv, or None if not run."""
    step = _steps(config)[step_id]
    values = _values(config, **overrides)
    argv = [substitute(arg, values) for arg in step["args"]]
    if "entrypoint" in step:
        argv.insert(0, step["entrypoint"])
    else:  # the hashicorp/terraform image's entrypoint
        argv.insert(0, "terraform")
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir(exist_ok=True)
    record = tmp_path / "terraform-args"
    record.unlink(missing_ok=True)
    stub = stub_dir / "terraform"
    stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{stub_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}
    for item in step.get("env", []):
        key, _, value = substitute(item, values).partition("=")
        env[key] = value
    if argv[0] == "terraform":
        argv[0] = str(stub)
    result = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    recorded = record.read_text().splitlines() if record.exists() else None
    return result, recorded


def test_init_uses_the_state_bucket_with_a_prefix_per_environment(config, tmp_path):
    result, args = run_step(
        config, "terraform-init", tmp_path, _STATE_BUCKET="tf-state", _ENV="staging"
    )
    assert result.returncode == 0, result.stderr
    assert args == [
        "init",
        "-input=false",
        "-backend-config=bucket=tf-state",
        "-backend-config=prefix=atende/staging",
    ]


def test_init_refuses_to_run_without_a_state_bucket(config, tmp_path):
    result, args = run_step(config, "terraform-init", tmp_path, _STATE_BUCKET="")
    assert result.returncode != 0 and args is None
    assert "_STATE_BUCKET" in result.stderr


def test_plan_uses_the_environment_s_var_file_the_project_and_the_packaged_build(config, tmp_path):
    result, args = run_step(config, "terraform-plan", tmp_path, _ENV="prod", _REGION="europe-west1")
    assert result.returncode == 0, result.stderr
    assert args == [
        "plan",
        "-input=false",
        "-var-file=envs/prod.tfvars",
        "-var=project_id=atende-test",
        "-var=region=europe-west1",
        "-var=environment=prod",
        "-var=bundle_dir=build",
        "-out=tfplan",
    ]


@pytest.mark.parametrize(
    ("env", "branch", "confirmed", "applies"),
    [
        ("dev", "feature/x", "", True),
        ("dev", "", "", True),  # a manual `gcloud builds submit` has no branch
        ("prod", "main", "", True),
        ("prod", "feature/x", "true", True),  # the approved production trigger
        ("prod", "feature/x", "", False),
        ("prod", "", "", False),
        ("prod", "main-hotfix", "", False),
        ("prod", "feature/x", "yes", False),
    ],
)
def test_apply_refuses_prod_unless_main_or_confirmed(
    config, tmp_path, env, branch, confirmed, applies
):
    result, args = run_step(
        config,
        "terraform-apply",
        tmp_path,
        _ENV=env,
        BRANCH_NAME=branch,
        _PROD_CONFIRMED=confirmed,
    )
    if applies:
        assert result.returncode == 0, result.stderr
        assert args == ["apply", "-input=false", "tfplan"]
    else:
        assert result.returncode != 0
        assert args is None, "terraform ran although the guard refused"
        assert "refusing to apply to prod" in result.stderr


def test_a_branch_name_is_never_executed_as_shell(config, tmp_path):
    marker = tmp_path / "pwned"
    result, args = run_step(
        config, "terraform-apply", tmp_path, _ENV="prod", BRANCH_NAME=f"x$(touch {marker})"
    )
    assert result.returncode != 0 and args is None
    assert not marker.exists()
