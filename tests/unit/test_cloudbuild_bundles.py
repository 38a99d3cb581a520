"""The bundles' path from CI to the deploy build, running the steps for real: CI uploads the
tested bundles under the commit with a manifest, and the deploy build takes exactly those,
waiting for the CI build of its commit and refusing anything else."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cloudbuild_support import COMMIT, gcloud_calls, run_step


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
    calls = [c for c in gcloud_calls(tmp_path) if c.startswith("storage cp")]
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
    assert gcloud_calls(tmp_path) == []


@pytest.mark.parametrize("config_name", ["ci", "deploy"])
def test_a_missing_bundles_bucket_is_refused(config_name, ci, deploy, tmp_path):
    config, step = (ci, "upload-bundles") if config_name == "ci" else (deploy, "bundles")
    _package(tmp_path / "ws")
    result, _ = run_step(config, step, tmp_path / "ws", _BUNDLES_BUCKET="")
    assert result.returncode != 0
    assert "_BUNDLES_BUCKET" in result.stderr
    assert gcloud_calls(tmp_path) == []


def test_deploy_takes_exactly_the_bundles_ci_tested(ci, deploy, tmp_path):
    files = _uploaded(tmp_path, ci)
    (tmp_path / "builds").write_text("ci-build-1\tSUCCESS\n")
    result, _ = run_step(deploy, "bundles", tmp_path / "deploy", _BUNDLES_BUCKET="bundles")
    assert result.returncode == 0, result.stderr
    for name, content in files.items():
        assert (tmp_path / "deploy" / "build" / name).read_text() == content
    listing = next(c for c in gcloud_calls(tmp_path) if c.startswith("builds list"))
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
    assert len([c for c in gcloud_calls(tmp_path) if c.startswith("builds list")]) == 1


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
    assert gcloud_calls(tmp_path) == []


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
