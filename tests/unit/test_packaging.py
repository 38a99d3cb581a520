"""`atende package`: one self-contained source folder per function."""

from atende.devstack.functions_app import discover
from atende.packaging import REPO_ROOT, build_all, runtime_requirements


def test_every_function_gets_a_bundle_with_its_entry_point_the_package_and_pinned_requirements(
    tmp_path,
):
    bundles = build_all(out_dir=tmp_path)
    names = sorted(bundle.name for bundle in bundles)
    assert names == discover(REPO_ROOT / "functions")
    assert {"agent_reply", "process_inbound", "send_outbound", "whatsapp_webhook"} <= set(names)
    for bundle in bundles:
        main = (bundle / "main.py").read_text()
        assert main == (REPO_ROOT / "functions" / bundle.name / "main.py").read_text()
        assert f"def {bundle.name}(" in main
        assert (bundle / "atende" / "webhook" / "edge.py").exists()
        assert (
            not (bundle / "atende" / "devstack").exists()
            and not (bundle / "atende" / "cli").exists()
        )
        requirements = (bundle / "requirements.txt").read_text().splitlines()
        assert all("==" in line for line in requirements)
        assert "functions-framework==3.10.2" in requirements


def test_requirements_include_transitive_dependencies_and_no_dev_tools():
    pinned = {line.split("==")[0] for line in runtime_requirements()}
    assert {"google-cloud-firestore", "grpcio", "protobuf", "starlette", "pybreaker"} <= pinned
    assert not {"pytest", "ruff", "mypy"} & pinned


def test_building_again_replaces_the_old_bundle(tmp_path):
    build_all(out_dir=tmp_path)
    stale = tmp_path / "whatsapp_webhook" / "stale.py"
    stale.write_text("x = 1\n")
    build_all(out_dir=tmp_path)
    assert not stale.exists()
