"""The two Cloud Build configs: CI (cloudbuild-ci.yaml) and deploy (cloudbuild.yaml).

CI runs the repository's code (lint, tests, package) as an account with no deploy rights and
uploads the tested bundles under the commit; the deploy build runs no repository code but
infra/: it takes those bundles and runs terraform as the deployer. The steps' shell scripts
are run for real (with `sh`/`bash` and stub `terraform` and `gcloud` commands that record
their arguments, the stub gcloud keeping "buckets" in a folder), after the same substitution
Cloud Build does, so each step is tested by what it does, not by how it reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from atende.packaging import REPO_ROOT

DEPLOY = REPO_ROOT / "cloudbuild.yaml"
CI = REPO_ROOT / "cloudbuild-ci.yaml"
SMOKE = REPO_ROOT / "cloudbuild-smoke.yaml"
DEPLOY_STEPS = ["bundles", "terraform-init", "terraform-plan", "terraform-apply"]
CI_STEPS = ["lint", "tests", "package", "upload-bundles"]
PYTHON_IMAGE = "python:3.12-bookworm"
# https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values
BUILT_IN = {
    "PROJECT_ID", "PROJECT_NUMBER", "BUILD_ID", "LOCATION", "TRIGGER_NAME", "COMMIT_SHA",
    "REVISION_ID", "SHORT_SHA", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME",
    "REF_NAME", "TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT",
}  # fmt: skip
# `$$` is a literal `$`; `$NAME` and `${NAME}` are substitutions.
_REFERENCE = re.compile(r"\$(?:\$|\{(\w+)\}|(\w+))")
COMMIT = "0123456789abcdef0123456789abcdef01234567"

# A stub gcloud: records its arguments; `builds list` prints $FAKE_BUILDS.<call number> (or
# $FAKE_BUILDS once those run out); `storage cp` copies between the workspace and
# $FAKE_GCS/<bucket>/<object>.
_GCLOUD_STUB = r"""#!/bin/sh
printf '%s\n' "$*" >> "$GCLOUD_RECORD"
if [ "$1 $2" = "builds list" ]; then
  n=$(( $(cat "$FAKE_BUILDS.count" 2>/dev/null || echo 0) + 1 ))
  echo "$n" > "$FAKE_BUILDS.count"
  if [ -f "$FAKE_BUILDS.$n" ]; then cat "$FAKE_BUILDS.$n"
  elif [ -f "$FAKE_BUILDS" ]; then cat "$FAKE_BUILDS"; fi
  exit 0
fi
if [ "$1 $2" = "storage cp" ]; then
  shift 2
  local_path() { case "$1" in gs://*) echo "$FAKE_GCS/${1#gs://}";; *) echo "$1";; esac; }
  for last; do :; done
  dest=$(local_path "$last")
  while [ "$#" -gt 1 ]; do
    src=$(local_path "$1"); shift
    [ -f "$src" ] || { echo "no such object: $src" >&2; exit 1; }
    if [ -d "$dest" ]; then cp "$src" "$dest/"
    else mkdir -p "$(dirname "$dest")"; cp "$src" "$dest"; fi
  done
  exit 0
fi
echo "unexpected gcloud call: $*" >&2
exit 2
"""


def _load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return _load(DEPLOY)


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return _load(CI)


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


# -- both files -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [DEPLOY, CI, SMOKE], ids=["deploy", "ci", "smoke"])
def test_every_substitution_used_is_declared_or_built_in_and_every_declared_one_is_used(path):
    config = _load(path)
    declared = set(config["substitutions"])
    assert all(name.startswith("_") for name in declared)
    used: set[str] = set()
    for step in config["steps"]:
        for text in _strings(step):
            used |= _references(text)
    assert used - BUILT_IN <= declared, used - BUILT_IN - declared
    assert declared <= used, declared - used


@pytest.mark.parametrize("path", [DEPLOY, CI, SMOKE], ids=["deploy", "ci", "smoke"])
def test_logging_goes_to_cloud_logging_only_and_every_step_has_a_timeout(path):
    # Required with a user-specified service account (both builds run as their own).
    config = _load(path)
    assert config["options"]["logging"] == "CLOUD_LOGGING_ONLY"
    assert re.fullmatch(r"\d+s", config["timeout"])
    assert all(re.fullmatch(r"\d+s", step["timeout"]) for step in config["steps"])
    total = sum(int(step["timeout"][:-1]) for step in config["steps"])
    assert total <= int(config["timeout"][:-1]), "the steps' timeouts exceed the build's"


@pytest.mark.parametrize("path", [DEPLOY, CI, SMOKE], ids=["deploy", "ci", "smoke"])
def test_steps_run_in_order_and_every_image_is_pinned(path):
    config = _load(path)
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
    steps = _steps(ci)
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
    script = _steps(ci)["tests"]["args"][-1]
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
    steps = _steps(deploy)
    for name in ("terraform-init", "terraform-plan", "terraform-apply"):
        assert re.fullmatch(r"hashicorp/terraform:1\.11\.\d+", steps[name]["name"])
        assert steps[name]["dir"] == "infra"


def test_deploy_substitution_defaults(deploy):
    subs = deploy["substitutions"]
    assert subs["_ENV"] == "dev"
    assert subs["_REGION"] == "us-central1"
    assert subs["_CI_TRIGGER"] == "atende-ci"
    assert int(subs["_CI_WAIT_SECONDS"]) >= 3600  # the CI tests take most of an hour
    bundles_timeout = int(_steps(deploy)["bundles"]["timeout"][:-1])
    assert bundles_timeout > int(subs["_CI_WAIT_SECONDS"])


def test_the_triggers_are_documented_with_approval_and_a_main_branch_filter():
    text = DEPLOY.read_text()
    assert "approvalConfig.approvalRequired: true" in text
    assert "^main$" in text
    assert "roles/cloudbuild.builds.approver" in text


# -- running the steps ------------------------------------------------------------------------


def _values(config: Mapping[str, Any], **overrides: str) -> dict[str, str]:
    values = {name: "" for name in BUILT_IN}
    values.update(
        PROJECT_ID="atende-test",
        BRANCH_NAME="feature/x",
        COMMIT_SHA=COMMIT,
        BUILD_ID="ci-build-1",
        LOCATION="us-central1",
    )
    values.update({name: str(value) for name, value in config["substitutions"].items()})
    values.update(overrides)
    return values


def _stub(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stub = directory / name
    stub.write_text(text)
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    return stub


def run_step(
    config: Mapping[str, Any],
    step_id: str,
    workspace: Path,
    *,
    env_overrides: Mapping[str, str] | None = None,
    **overrides: str,
) -> tuple[subprocess.CompletedProcess[str], list[str] | None]:
    """Run a step in `workspace` with terraform and gcloud stubbed.

    Returns the result and terraform's argv (None if terraform did not run); gcloud's calls
    are in <workspace>/../gcloud-calls, the fake buckets in <workspace>/../gcs.
    """
    step = _steps(config)[step_id]
    values = _values(config, **overrides)
    argv = [substitute(arg, values) for arg in step["args"]]
    if "entrypoint" in step:
        argv.insert(0, step["entrypoint"])
    else:  # the hashicorp/terraform image's entrypoint
        argv.insert(0, "terraform")
    root = workspace.parent
    stubs = root / "bin"
    record = root / "terraform-args"
    record.unlink(missing_ok=True)
    terraform = _stub(stubs, "terraform", f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    _stub(stubs, "gcloud", _GCLOUD_STUB)
    env = {
        "PATH": f"{stubs}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "GCLOUD_RECORD": str(root / "gcloud-calls"),
        "FAKE_GCS": str(root / "gcs"),
        "FAKE_BUILDS": str(root / "builds"),
    }
    for item in step.get("env", []):
        key, _, value = substitute(item, values).partition("=")
        env[key] = value
    env.update(env_overrides or {})
    if argv[0] == "terraform":
        argv[0] = str(terraform)
    workspace.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        argv, env=env, cwd=workspace, capture_output=True, text=True, timeout=60
    )
    recorded = record.read_text().splitlines() if record.exists() else None
    return result, recorded


def _gcloud_calls(root: Path) -> list[str]:
    calls = root / "gcloud-calls"
    return calls.read_text().splitlines() if calls.exists() else []


def _package(workspace: Path) -> dict[str, str]:
    """A build/ as `make package` leaves it; returns path -> content."""
    files = {
        "whatsapp_webhook/main.py": "# whatsapp\n",
        "whatsapp_webhook/requirements.txt": "pydantic==2.0\n",
        "process_inbound/main.py": "# worker\n",
        "process_inbound/atende/__init__.py": "",
    }
    for name, content in files.items():
        path = workspace / "build" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return files


def _uploaded(tmp_path: Path, ci: Mapping[str, Any]) -> dict[str, str]:
    files = _package(tmp_path / "ci")
    result, _ = run_step(ci, "upload-bundles", tmp_path / "ci", _BUNDLES_BUCKET="bundles")
    assert result.returncode == 0, result.stderr
    return files


def test_ci_uploads_the_bundles_under_the_commit_and_its_build_id_manifest_last(ci, tmp_path):
    _uploaded(tmp_path, ci)
    prefix = tmp_path / "gcs" / "bundles" / COMMIT / "ci-build-1"
    assert sorted(p.name for p in prefix.iterdir()) == ["bundles.tar.gz", "manifest.json"]
    calls = [c for c in _gcloud_calls(tmp_path) if c.startswith("storage cp")]
    assert calls[-1].endswith(f"gs://bundles/{COMMIT}/ci-build-1/manifest.json")
    manifest = json.loads((prefix / "manifest.json").read_text())
    with tarfile.open(prefix / "bundles.tar.gz") as archive:
        names = {name.removeprefix("./") for name in archive.getnames()}
    assert {"whatsapp_webhook/main.py", "process_inbound/atende/__init__.py"} <= names
    digest = hashlib.sha256((prefix / "bundles.tar.gz").read_bytes()).hexdigest()
    assert manifest == {
        "commit_sha": COMMIT,
        "build_id": "ci-build-1",
        "sha256": digest,
        "functions": ["process_inbound", "whatsapp_webhook"],
    }


def test_ci_without_a_commit_uploads_nothing(ci, tmp_path):
    _package(tmp_path / "ci")
    result, _ = run_step(ci, "upload-bundles", tmp_path / "ci", _BUNDLES_BUCKET="b", COMMIT_SHA="")
    assert result.returncode == 0, result.stderr
    assert "not uploaded" in result.stdout
    assert _gcloud_calls(tmp_path) == []


@pytest.mark.parametrize("config_name", ["ci", "deploy"])
def test_a_missing_bundles_bucket_is_refused(config_name, ci, deploy, tmp_path):
    config, step = (ci, "upload-bundles") if config_name == "ci" else (deploy, "bundles")
    _package(tmp_path / "ws")
    result, _ = run_step(config, step, tmp_path / "ws", _BUNDLES_BUCKET="")
    assert result.returncode != 0
    assert "_BUNDLES_BUCKET" in result.stderr
    assert _gcloud_calls(tmp_path) == []


def test_deploy_takes_exactly_the_bundles_ci_tested(ci, deploy, tmp_path):
    files = _uploaded(tmp_path, ci)
    (tmp_path / "builds").write_text("ci-build-1\tSUCCESS\n")
    result, _ = run_step(deploy, "bundles", tmp_path / "deploy", _BUNDLES_BUCKET="bundles")
    assert result.returncode == 0, result.stderr
    for name, content in files.items():
        assert (tmp_path / "deploy" / "build" / name).read_text() == content
    listing = next(c for c in _gcloud_calls(tmp_path) if c.startswith("builds list"))
    assert f'substitutions.COMMIT_SHA="{COMMIT}"' in listing
    assert 'substitutions.TRIGGER_NAME="atende-ci"' in listing
    assert "--region=us-central1" in listing


def test_deploy_waits_for_a_running_ci_build(ci, deploy, tmp_path):
    _uploaded(tmp_path, ci)
    (tmp_path / "builds.1").write_text("")  # not started yet
    (tmp_path / "builds.2").write_text("ci-build-1\tWORKING\n")
    (tmp_path / "builds").write_text("ci-build-1\tSUCCESS\n")
    result, _ = run_step(
        deploy, "bundles", tmp_path / "deploy", _BUNDLES_BUCKET="bundles",
        env_overrides={"POLL_SECONDS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("waiting for the CI build") == 2
    assert (tmp_path / "deploy" / "build" / "whatsapp_webhook" / "main.py").exists()


def test_deploy_gives_up_after_the_wait_with_a_clear_error(deploy, tmp_path):
    result, _ = run_step(
        deploy, "bundles", tmp_path / "deploy", _BUNDLES_BUCKET="bundles",
        _CI_WAIT_SECONDS="2", env_overrides={"POLL_SECONDS": "1"},
    )  # fmt: skip
    assert result.returncode != 0
    assert f"no successful CI build of commit {COMMIT}" in result.stderr
    assert not (tmp_path / "deploy" / "build").exists()


def test_deploy_fails_at_once_when_the_ci_build_failed(deploy, tmp_path):
    (tmp_path / "builds").write_text("ci-build-2\tFAILURE\nci-build-1\tCANCELLED\n")
    result, _ = run_step(deploy, "bundles", tmp_path / "deploy", _BUNDLES_BUCKET="bundles")
    assert result.returncode != 0
    assert "did not succeed" in result.stderr and "ci-build-2" in result.stderr
    assert len([c for c in _gcloud_calls(tmp_path) if c.startswith("builds list")]) == 1


def test_deploy_refuses_bundles_that_do_not_match_their_manifest(ci, deploy, tmp_path):
    _uploaded(tmp_path, ci)
    archive = tmp_path / "gcs" / "bundles" / COMMIT / "ci-build-1" / "bundles.tar.gz"
    archive.write_bytes(archive.read_bytes() + b"tampered")
    (tmp_path / "builds").write_text("ci-build-1\tSUCCESS\n")
    result, _ = run_step(deploy, "bundles", tmp_path / "deploy", _BUNDLES_BUCKET="bundles")
    assert result.returncode != 0
    assert "does not match its manifest" in result.stderr
    assert not (tmp_path / "deploy" / "build").exists()


def test_deploy_without_a_commit_is_refused(deploy, tmp_path):
    result, _ = run_step(
        deploy, "bundles", tmp_path / "deploy", _BUNDLES_BUCKET="bundles", COMMIT_SHA=""
    )
    assert result.returncode != 0
    assert "tested bundles of a commit" in result.stderr
    assert _gcloud_calls(tmp_path) == []


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


def test_a_substitution_is_never_executed_as_shell_in_the_bundle_steps(ci, deploy, tmp_path):
    marker = tmp_path / "pwned"
    _package(tmp_path / "ci")
    evil = f"b$(touch {marker})"
    run_step(ci, "upload-bundles", tmp_path / "ci", _BUNDLES_BUCKET=evil)
    (tmp_path / "builds").write_text("")
    run_step(
        deploy, "bundles", tmp_path / "deploy", _BUNDLES_BUCKET=evil, _CI_TRIGGER=evil,
        _CI_WAIT_SECONDS="0",
    )  # fmt: skip
    assert not marker.exists()


# -- the smoke build --------------------------------------------------------------------------

_PYTHON_STUB = r"""#!/bin/sh
# python3.12 -m venv DIR: a venv whose pip does nothing and whose atende records its args.
dir="$3"
mkdir -p "$dir/bin"
printf '#!/bin/sh\nexit 0\n' > "$dir/bin/pip"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" > "$ATENDE_RECORD"\nexit "${SMOKE_EXIT:-0}"\n' \
  > "$dir/bin/atende"
chmod +x "$dir/bin/pip" "$dir/bin/atende"
"""


@pytest.fixture(scope="module")
def smoke() -> dict[str, Any]:
    return _load(SMOKE)


def _run_smoke(smoke, tmp_path: Path, exit_code: int = 0, **overrides: str):
    _stub(tmp_path / "bin", "python3.12", _PYTHON_STUB)
    record = tmp_path / "atende-args"
    result, _ = run_step(
        smoke,
        "smoke",
        tmp_path / "ws",
        env_overrides={"ATENDE_RECORD": str(record), "SMOKE_EXIT": str(exit_code)},
        **overrides,
    )
    return result, (record.read_text().splitlines() if record.exists() else None)


def test_the_smoke_build_checks_the_deployed_project_with_the_smoke_account(smoke, tmp_path):
    result, args = _run_smoke(smoke, tmp_path, _SMOKE_ACCOUNT="109876543210987")
    assert result.returncode == 0, result.stderr
    assert args == [
        "smoke", "--project", "atende-test", "--region", "us-central1",
        "--account", "109876543210987", "--channels", "all", "--job", "youtube_renew",
    ]  # fmt: skip
    result, args = _run_smoke(
        smoke, tmp_path, _SMOKE_ACCOUNT="1", _SMOKE_CHANNELS="whatsapp", _SMOKE_JOB="none"
    )
    assert args is not None and args[-4:] == ["--channels", "whatsapp", "--job", "none"]


def test_a_failed_smoke_check_fails_the_smoke_build(smoke, tmp_path):
    result, args = _run_smoke(smoke, tmp_path, exit_code=1, _SMOKE_ACCOUNT="109876543210987")
    assert args is not None and result.returncode == 1


def test_the_smoke_build_refuses_to_run_without_a_smoke_account(smoke, tmp_path):
    result, args = _run_smoke(smoke, tmp_path)
    assert result.returncode != 0 and args is None
    assert "_SMOKE_ACCOUNT" in result.stderr


def test_the_smoke_build_installs_the_package_alone_and_deploys_nothing(smoke):
    [step] = smoke["steps"]
    script = step["args"][-1]
    assert step["name"] == PYTHON_IMAGE
    assert "pip install --quiet ." in script and "[dev]" not in script
    assert not re.search(r"terraform|gcloud", script)
    # _STATUS and _TRIGGER_ID are the Pub/Sub trigger's, for its filter only.
    assert smoke["options"]["substitutionOption"] == "ALLOW_LOOSE"
