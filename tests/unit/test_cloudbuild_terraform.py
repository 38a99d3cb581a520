"""The deploy build's terraform steps, run for real with a stub terraform: init with the state
bucket, plan with the environment and the tested bundles, and apply guarded for prod."""

from __future__ import annotations

import pytest
from cloudbuild_support import run_step


def test_init_uses_the_state_bucket_with_a_prefix_per_environment(deploy, tmp_path):
    result, args = run_step(
        deploy, "terraform-init", tmp_path / "ws", _STATE_BUCKET="tf-state", _ENV="staging"
    )
    assert result.returncode == 0, result.stderr
    assert args == [
        "init",
        "-input=false",
        "-lock-timeout=10m",
        "-backend-config=bucket=tf-state",
        "-backend-config=prefix=atende/staging",
    ]


def test_init_refuses_to_run_without_a_state_bucket(deploy, tmp_path):
    result, args = run_step(deploy, "terraform-init", tmp_path / "ws", _STATE_BUCKET="")
    assert result.returncode != 0 and args is None
    assert "_STATE_BUCKET" in result.stderr


def test_plan_uses_the_environment_s_var_file_the_project_and_the_tested_bundles(deploy, tmp_path):
    result, args = run_step(
        deploy, "terraform-plan", tmp_path / "ws", _ENV="prod", _REGION="europe-west1"
    )
    assert result.returncode == 0, result.stderr
    assert args == [
        "plan",
        "-input=false",
        "-lock-timeout=10m",
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
        ("dev", "", "", True),  # a manual `gcloud builds triggers run` has no branch
        ("prod", "main", "", True),
        ("prod", "feature/x", "true", True),  # the approved production trigger
        ("prod", "feature/x", "", False),
        ("prod", "", "", False),
        ("prod", "main-hotfix", "", False),
        ("prod", "feature/x", "yes", False),
    ],
)
def test_apply_refuses_prod_unless_main_or_confirmed(
    deploy, tmp_path, env, branch, confirmed, applies
):
    result, args = run_step(
        deploy,
        "terraform-apply",
        tmp_path / "ws",
        _ENV=env,
        BRANCH_NAME=branch,
        _PROD_CONFIRMED=confirmed,
    )
    if applies:
        assert result.returncode == 0, result.stderr
        assert args == ["apply", "-input=false", "-lock-timeout=10m", "tfplan"]
    else:
        assert result.returncode != 0
        assert args is None, "terraform ran although the guard refused"
        assert "refusing to apply to prod" in result.stderr


def test_a_branch_name_is_never_executed_as_shell(deploy, tmp_path):
    marker = tmp_path / "pwned"
    result, args = run_step(
        deploy, "terraform-apply", tmp_path / "ws", _ENV="prod", BRANCH_NAME=f"x$(touch {marker})"
    )
    assert result.returncode != 0 and args is None
    assert not marker.exists()
