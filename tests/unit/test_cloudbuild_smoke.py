"""The smoke build (cloudbuild-smoke.yaml), run for real with stub commands: it checks the
deployed project with the smoke account, fails when the check fails, and deploys nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cloudbuild_support import PYTHON_IMAGE, SMOKE, load_config, run_step, stub_command

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
    return load_config(SMOKE)


def _run_smoke(smoke, tmp_path: Path, exit_code: int = 0, **overrides: str):
    stub_command(tmp_path / "bin", "python3.12", _PYTHON_STUB)
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
