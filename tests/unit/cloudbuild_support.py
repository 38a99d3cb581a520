"""Reading the Cloud Build configs and running their steps' shell scripts for real.

`run_step` runs a step with `sh`/`bash` and stub `terraform` and `gcloud` commands that record
their arguments (the stub gcloud keeping "buckets" in a folder), after the same substitution
Cloud Build does, so each step is tested by what it does, not by how it reads.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from atende.packaging import REPO_ROOT

DEPLOY = REPO_ROOT / "cloudbuild.yaml"
CI = REPO_ROOT / "cloudbuild-ci.yaml"
SMOKE = REPO_ROOT / "cloudbuild-smoke.yaml"
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


def load_config(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def steps_by_id(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in config["steps"]}


def references(text: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in _REFERENCE.finditer(text) if m.group(0) != "$$"}


def substitute(text: str, values: Mapping[str, str]) -> str:
    """What Cloud Build does to a step's strings before running it (KeyError if unknown)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return values[match.group(1) or match.group(2)]

    return _REFERENCE.sub(replace, text)


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


def stub_command(directory: Path, name: str, text: str) -> Path:
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
    step = steps_by_id(config)[step_id]
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
    terraform = stub_command(stubs, "terraform", f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    stub_command(stubs, "gcloud", _GCLOUD_STUB)
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


def gcloud_calls(root: Path) -> list[str]:
    calls = root / "gcloud-calls"
    return calls.read_text().splitlines() if calls.exists() else []
