"""Which npm package holds the schema of each provider pinned in infra/, and installing it.

The cdktf prebuilt provider packages (`@cdktf/provider-google`, `@cdktf/provider-archive`) are
generated from one exact provider version each, named in their package.json
(`cdktf.provider.version`). PACKAGES maps each provider version infra/ may pin to the package
version built from it; moving a pin in infra/versions.tf without adding its package here
fails the install and the tests, so the schema always moves with the pin.

Standard library only: `.ci/infra-check` runs `python3 -m tests.infra_schema.pins install`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
#: Git-ignored; `npm install --prefix` puts the packages in its node_modules/.
CACHE = REPO_ROOT / ".cache" / "tfschema"

#: provider source -> (npm package, {provider version: package version built from it}).
#: Found with `npm view @cdktf/provider-google@16.12 cdktf.provider.version`; loading the
#: schema checks the installed package's own `cdktf.provider.version` again.
PACKAGES: dict[str, tuple[str, dict[str, str]]] = {
    "hashicorp/google": ("@cdktf/provider-google", {"6.50.0": "16.12.0"}),
    "hashicorp/archive": ("@cdktf/provider-archive", {"2.7.1": "11.0.0"}),
    # time_sleep between the log-based metrics and their alert policies (infra/monitoring.tf).
    # 11.0.0 and 11.0.1 are both built from 0.13.1 (npm view @cdktf/provider-time@11
    # cdktf.provider.version); the later of the two.
    "hashicorp/time": ("@cdktf/provider-time", {"0.13.1": "11.0.1"}),
}

_REGISTRY = "registry.terraform.io/"
_REQUIRED_PROVIDERS = re.compile(r"required_providers\s*\{(?P<body>(?:[^{}]|\{[^{}]*\})*)\}")
_PROVIDER_ENTRY = re.compile(r"(?P<name>[A-Za-z][\w-]*)\s*=\s*\{(?P<body>[^{}]*)\}")
_STRING_ATTR = re.compile(r'(?P<key>source|version)\s*=\s*"(?P<value>[^"]*)"')
_EXACT = re.compile(r"^=?\s*(?P<version>\d+\.\d+\.\d+)$")


class PinError(Exception):
    """infra/ pins a provider this checker has no schema package for (or pins it loosely)."""


@dataclass(frozen=True)
class Pin:
    """One provider as infra/ requires it, and the npm package holding its schema."""

    name: str  # the local name: google, archive
    source: str  # hashicorp/google
    version: str  # 6.50.0
    package: str  # @cdktf/provider-google
    package_version: str  # 16.12.0

    @property
    def package_dir(self) -> Path:
        return CACHE / "node_modules" / self.package


def _normalise_source(source: str) -> str:
    return source.removeprefix(_REGISTRY).lower()


def declared_pins(infra: Path = INFRA) -> dict[str, tuple[str, str]]:
    """Local name -> (source, version constraint), from every required_providers in infra/.

    Every module must require the same version of a provider as the root does.
    """
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(infra.rglob("*.tf")):
        text = path.read_text()
        for block in _REQUIRED_PROVIDERS.finditer(text):
            for entry in _PROVIDER_ENTRY.finditer(block["body"]):
                attrs = {m["key"]: m["value"] for m in _STRING_ATTR.finditer(entry["body"])}
                pin = (_normalise_source(attrs.get("source", "")), attrs.get("version", ""))
                previous = found.setdefault(entry["name"], pin)
                if previous != pin:
                    raise PinError(
                        f"{path.relative_to(infra.parent)} requires {entry['name']} as {pin}, "
                        f"another file as {previous}: pin one version everywhere"
                    )
    return found


def pins(infra: Path = INFRA) -> list[Pin]:
    """The pinned providers with their schema packages; PinError for a pin without one."""
    result = []
    for name, (source, constraint) in sorted(declared_pins(infra).items()):
        exact = _EXACT.match(constraint.strip())
        if exact is None:
            raise PinError(
                f'provider {name} is pinned as "{constraint}": pin one exact version '
                '(version = "= X.Y.Z") so that the schema it is checked against is known'
            )
        if source not in PACKAGES:
            raise PinError(f"provider {name} ({source}) has no schema package in {__name__}")
        package, versions = PACKAGES[source]
        version = exact["version"]
        if version not in versions:
            raise PinError(
                f"infra/ pins {source} {version}, but {__name__}.PACKAGES knows the schema "
                f"package of {sorted(versions)} only: add the {package} version built from "
                f"{version} (npm view '{package}@<major>' cdktf.provider.version lists them)"
            )
        result.append(Pin(name, source, version, package, versions[version]))
    return result


def installed_version(pin: Pin) -> str | None:
    """The version of the package installed in CACHE, if any."""
    manifest = pin.package_dir / "package.json"
    if not manifest.is_file():
        return None
    version = json.loads(manifest.read_text()).get("version")
    return version if isinstance(version, str) else None


def install() -> int:
    """Install the schema packages of the pinned providers into CACHE, unless already there."""
    try:
        wanted = pins()
    except PinError as error:
        print(f"tfschema: {error}", file=sys.stderr)  # noqa: T201 - a command-line tool
        return 1
    missing = [pin for pin in wanted if installed_version(pin) != pin.package_version]
    if not missing:
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print(  # noqa: T201
            "tfschema: npm is missing; install Node.js 20 (Debian: apt-get install nodejs npm)",
            file=sys.stderr,
        )
        return 1
    # All of them, so that the cache's package.json names exactly the pinned set.
    specs = [f"{pin.package}@{pin.package_version}" for pin in wanted]
    print(f"tfschema: installing {' '.join(specs)} into {CACHE}")  # noqa: T201
    CACHE.mkdir(parents=True, exist_ok=True)
    # --omit=peer: the packages' peers (cdktf, constructs) are code the schema does not need.
    command = [npm, "install", "--no-audit", "--no-fund", "--omit=peer", "--save-exact"]
    completed = subprocess.run([*command, "--prefix", str(CACHE), *specs], check=False)
    return completed.returncode


def main(argv: list[str]) -> int:
    if argv == ["install"]:
        return install()
    if argv == ["show"]:
        for pin in pins():
            print(f"{pin.name} {pin.source} {pin.version} -> {pin.package}@{pin.package_version}")  # noqa: T201
        return 0
    print("usage: python3 -m tests.infra_schema.pins install|show", file=sys.stderr)  # noqa: T201
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
