"""infra/ parsed with python-hcl2 into the facts the infra tests read: the root module's
locals, variables, module calls and resources, and those of modules/function/."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from atende.packaging import REPO_ROOT

INFRA = REPO_ROOT / "infra"
MODULE = INFRA / "modules" / "function"
HCL_OPTIONS = SerializationOptions(
    strip_string_quotes=True, with_comments=False, explicit_blocks=False
)


def _parse(directory: Path) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = defaultdict(list)
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            document = hcl2.load(handle, serialization_options=HCL_OPTIONS)
        for key, blocks in document.items():
            merged[key].extend(blocks)
    return merged


def _named(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {name: body for block in blocks for name, body in block.items()}


def _resources(blocks: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for block in blocks:
        for kind, named in block.items():
            for name, body in named.items():
                found[(kind, name)] = body
    return found


@dataclass(frozen=True)
class Terraform:
    locals: dict[str, Any]
    variables: dict[str, Any]
    modules: dict[str, Any]
    resources: dict[tuple[str, str], dict[str, Any]]
    module_locals: dict[str, Any]
    module_variables: dict[str, Any]
    module_resources: dict[tuple[str, str], dict[str, Any]]
    module_data: dict[tuple[str, str], dict[str, Any]]

    def default(self, variable: str) -> Any:
        return self.variables[variable]["default"]


def strip_interpolation(expression: str) -> str:
    match = re.fullmatch(r"\$\{(.*)\}", expression, flags=re.DOTALL)
    return match.group(1) if match else expression


def load_terraform() -> Terraform:
    """infra/ and its function module, parsed into the facts the tests read."""
    root, module = _parse(INFRA), _parse(MODULE)
    return Terraform(
        locals={k: v for block in root["locals"] for k, v in block.items()},
        variables=_named(root["variable"]),
        modules=_named(root["module"]),
        resources=_resources(root["resource"]),
        module_locals={k: v for block in module["locals"] for k, v in block.items()},
        module_variables=_named(module["variable"]),
        module_resources=_resources(module["resource"]),
        module_data=_resources(module["data"]),
    )
