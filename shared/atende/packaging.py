"""Builds one self-contained source folder per function, as Cloud Functions deploys them:
`build/<function>/` with its `main.py`, the `atende` package, and a requirements.txt that
pins every runtime dependency (transitively) at the version the tests ran with.
"""

from __future__ import annotations

import importlib.metadata as metadata
import shutil
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Dev-only parts of the package that a deployed function never imports.
_EXCLUDED = ("devstack", "cli", "__pycache__")


def runtime_requirements(project: str = "atende") -> list[str]:
    """`name==version` for the project's runtime dependencies and all of theirs."""
    pins: dict[str, str] = {}
    pending = [Requirement(text) for text in metadata.requires(project) or []]
    while pending:
        requirement = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in pins:
            continue
        distribution = metadata.distribution(requirement.name)
        pins[name] = distribution.version
        pending.extend(Requirement(text) for text in distribution.requires or [])
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def function_names(functions_dir: Path) -> list[str]:
    return sorted(path.parent.name for path in functions_dir.glob("*/main.py"))


def build_bundle(
    name: str, out_dir: Path, requirements: Iterable[str], repo_root: Path = REPO_ROOT
) -> Path:
    bundle = out_dir / name
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    shutil.copy2(repo_root / "functions" / name / "main.py", bundle / "main.py")
    shutil.copytree(
        repo_root / "shared" / "atende",
        bundle / "atende",
        ignore=lambda directory, names: [item for item in names if item in _EXCLUDED],
    )
    (bundle / "requirements.txt").write_text("\n".join(requirements) + "\n")
    return bundle


def build_all(out_dir: str | Path = "build", repo_root: Path = REPO_ROOT) -> list[Path]:
    requirements = runtime_requirements()
    out = Path(out_dir)
    return [
        build_bundle(name, out, requirements, repo_root)
        for name in function_names(repo_root / "functions")
    ]
