"""The schema of a resource, data source or provider block, read from the cdktf packages.

Each type lives in `lib/<dir>/` of its package (google_cloud_tasks_queue in
`lib/cloud-tasks-queue/`, data source google_x in `lib/data-google-x/`, the provider in
`lib/provider/`; large types add `index-structs/`). Two generated files describe it:

- `index.js`: every block and nested block has a `<struct>ToHclTerraform` function (the
  resource itself: `synthesizeHclAttributes`) listing each Terraform name with `isBlock`; a
  nested block's value calls its own struct's function, through `cdktf.listMapperHcl` when the
  block may repeat, directly when the schema allows it once (max_items = 1).
- `index.d.ts`: the same structs as TypeScript interfaces, a property optional (`name?:`)
  exactly when the schema does not require it.

Only the few types infra/ uses are read (a few hundred kB each), once per process.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests.infra_schema.pins import Pin


class SchemaError(Exception):
    """The package does not describe the type, or not in the shape this reader knows."""


@dataclass(frozen=True)
class Attribute:
    name: str
    required: bool


@dataclass(frozen=True)
class Block:
    """The arguments and nested blocks a block body accepts."""

    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: dict[str, NestedBlock] = field(default_factory=dict)
    #: A body whose content Terraform does not check against a schema (connection, provisioner).
    free_form: bool = False


@dataclass(frozen=True)
class NestedBlock:
    name: str
    block: Block
    required: bool  # min_items >= 1
    max_one: bool  # max_items = 1


def _any_attribute(*names: str) -> dict[str, Attribute]:
    return {name: Attribute(name, required=False) for name in names}


_CONDITION = Block(
    attributes={
        "condition": Attribute("condition", required=True),
        "error_message": Attribute("error_message", required=True),
    }
)
_FREE = Block(free_form=True)

#: The meta-arguments Terraform accepts in every resource block, with the documented schema of
#: `lifecycle` (https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle).
RESOURCE_META = Block(
    attributes=_any_attribute("count", "for_each", "provider", "depends_on"),
    blocks={
        "lifecycle": NestedBlock(
            "lifecycle",
            Block(
                attributes=_any_attribute(
                    "create_before_destroy",
                    "prevent_destroy",
                    "ignore_changes",
                    "replace_triggered_by",
                ),
                blocks={
                    "precondition": NestedBlock("precondition", _CONDITION, False, False),
                    "postcondition": NestedBlock("postcondition", _CONDITION, False, False),
                },
            ),
            required=False,
            max_one=True,
        ),
        # provisioner "local-exec" { ... }: its schema is the provisioner's own.
        "provisioner": NestedBlock("provisioner", _FREE, False, False),
        "connection": NestedBlock("connection", _FREE, False, True),
    },
)
#: Data sources: the same, but lifecycle holds only conditions
#: (https://developer.hashicorp.com/terraform/language/data-sources#lifecycle-customizations).
DATA_META = Block(
    attributes=_any_attribute("count", "for_each", "provider", "depends_on"),
    blocks={
        "lifecycle": NestedBlock(
            "lifecycle",
            Block(
                blocks={
                    "precondition": NestedBlock("precondition", _CONDITION, False, False),
                    "postcondition": NestedBlock("postcondition", _CONDITION, False, False),
                }
            ),
            required=False,
            max_one=True,
        ),
    },
)
#: `alias` in any provider block
#: (https://developer.hashicorp.com/terraform/language/providers/configuration#alias-multiple-provider-configurations).
PROVIDER_META = Block(attributes=_any_attribute("alias"))
#: A module call's own arguments (https://developer.hashicorp.com/terraform/language/modules/syntax).
MODULE_META = frozenset({"source", "version", "count", "for_each", "depends_on", "providers"})

#: terraform_data is built into Terraform itself (no provider package describes it):
#: https://developer.hashicorp.com/terraform/language/resources/terraform-data: two optional
#: arguments, `input` and `triggers_replace`; `id` and `output` are computed only.
TERRAFORM_DATA = Block(attributes=_any_attribute("input", "triggers_replace"))

_FUNCTION = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{\n(.*?)\n\}$", re.M | re.S)
_SYNTHESIZE = re.compile(r"synthesizeHclAttributes\(\) \{\n(.*?)\n    \}$", re.M | re.S)
_ENTRY = re.compile(
    r"^\s+(?P<name>\w+): \{\n"
    r"\s+value: (?P<value>.*),\n"
    r"\s+isBlock: (?P<is_block>true|false),\n"
    r'\s+type: "(?P<type>\w+)",\n'
    r'\s+storageClassType: "\w+",\n'
    r"\s+\},$",
    re.M,
)
_MODULE_PREFIX = re.compile(r"\(0, \w+_1\.(\w+)\)|\b\w+_1\.(\w+)")
_PROPERTY_SOURCE = re.compile(r"\((?:struct\.|this\._)(\w+)(?:\.internalValue)?\)$")
_NESTED = re.compile(
    r"^(?:cdktf\.listMapperHcl\((\w+)ToHclTerraform, true\)|(\w+)ToHclTerraform)\("
)
_INTERFACE = re.compile(r"^export interface (\w+)(?: extends [\w.]+)? \{\n(.*?)^\}$", re.M | re.S)
_PROPERTY = re.compile(r"^    readonly (\w+)(\?)?: ", re.M)
_CLASS = re.compile(
    r"^export declare class (\w+) extends cdktf\.Terraform(Resource|DataSource|Provider) \{", re.M
)
_TF_TYPE = re.compile(r'static readonly tfResourceType = "([\w-]+)";')


@dataclass(frozen=True)
class _Entry:
    name: str
    camel: str
    is_block: bool
    nested: str | None  # the nested struct's function name
    repeated: bool


def _sources(directory: Path, suffix: str) -> str:
    files = [directory / f"index{suffix}"]
    structs = directory / "index-structs"
    if structs.is_dir():
        files += sorted(structs.glob(f"*{suffix}"))
    return "\n".join(path.read_text() for path in files)


def _entries(body: str, where: str) -> list[_Entry]:
    found = []
    for match in _ENTRY.finditer(body):
        value = _MODULE_PREFIX.sub(lambda m: m[1] or m[2], match["value"])
        source = _PROPERTY_SOURCE.search(value)
        if source is None:
            raise SchemaError(f"{where}: cannot read {match['name']}'s value {value!r}")
        nested = _NESTED.match(value)
        found.append(
            _Entry(
                name=match["name"],
                camel=source[1],
                is_block=match["is_block"] == "true",
                nested=(nested[1] or nested[2]) if nested else None,
                repeated=bool(nested and nested[1]),
            )
        )
    return found


@dataclass
class _TypeSources:
    where: str
    functions: dict[str, list[_Entry]]
    interfaces: dict[str, dict[str, bool]]  # interface -> camel property -> optional

    def block(self, entries: list[_Entry], interface: str, seen: tuple[str, ...] = ()) -> Block:
        properties = self.interfaces.get(interface)
        if properties is None:
            raise SchemaError(f"{self.where}: no interface {interface} in index.d.ts")
        attributes: dict[str, Attribute] = {}
        blocks: dict[str, NestedBlock] = {}
        for entry in entries:
            if entry.camel not in properties:
                raise SchemaError(f"{self.where}: {interface} has no property {entry.camel}")
            required = not properties[entry.camel]
            if not entry.is_block:
                attributes[entry.name] = Attribute(entry.name, required)
                continue
            if entry.nested is None or entry.nested not in self.functions:
                raise SchemaError(f"{self.where}: block {entry.name} has no struct function")
            if entry.nested in seen:  # a recursive schema: stop at the second level
                nested = Block(free_form=True)
            else:
                nested = self.block(
                    self.functions[entry.nested],
                    entry.nested[0].upper() + entry.nested[1:],
                    (*seen, entry.nested),
                )
            blocks[entry.name] = NestedBlock(entry.name, nested, required, not entry.repeated)
        return Block(attributes=attributes, blocks=blocks)


def _directory(pin: Pin, kind: str, type_name: str) -> Path:
    lib = pin.package_dir / "lib"
    if kind == "provider":
        return lib / "provider"
    if kind == "data":
        return lib / ("data-" + type_name.replace("_", "-"))
    return lib / type_name.removeprefix(pin.name + "_").replace("_", "-")


def check_installed(pin: Pin) -> None:
    """SchemaError unless the package built from the pinned provider version is installed."""
    manifest = pin.package_dir / "package.json"
    if not manifest.is_file():
        raise SchemaError(
            f"{pin.package}@{pin.package_version} is not installed in {pin.package_dir.parent}: "
            "run `python3 -m tests.infra_schema.pins install` (`make infra-check` does)"
        )
    data = json.loads(manifest.read_text())
    built_from = data.get("cdktf", {}).get("provider", {})
    if data.get("version") != pin.package_version or built_from.get("version") != pin.version:
        raise SchemaError(
            f"{manifest} is {data.get('version')} built from {pin.source} "
            f"{built_from.get('version')}, not {pin.package_version} built from {pin.version}: "
            "run `python3 -m tests.infra_schema.pins install`"
        )


@cache
def load(pin: Pin, kind: str, type_name: str) -> Block | None:
    """The schema of `resource "type_name"` (kind resource), `data` or `provider`; None if the
    package has no such type."""
    check_installed(pin)
    directory = _directory(pin, kind, type_name)
    declarations_path = directory / "index.d.ts"
    if not declarations_path.is_file():
        return None
    declarations = _sources(directory, ".d.ts")
    declared = _TF_TYPE.search(declarations)
    expected = pin.name if kind == "provider" else type_name
    classes = _CLASS.search(declarations)
    expected_base = {"resource": "Resource", "data": "DataSource", "provider": "Provider"}[kind]
    if declared is None or declared[1] != expected or classes is None:
        return None
    if classes[2] != expected_base:
        return None
    where = f"{pin.package}/{directory.relative_to(pin.package_dir)}"
    code = _sources(directory, ".js")
    synthesize = _SYNTHESIZE.search(code)
    if synthesize is None:
        raise SchemaError(f"{where}: no synthesizeHclAttributes in index.js")
    sources = _TypeSources(
        where=where,
        functions={m[1]: _entries(m[2], where) for m in _FUNCTION.finditer(code)},
        interfaces={
            m[1]: {p[1]: bool(p[2]) for p in _PROPERTY.finditer(m[2])}
            for m in _INTERFACE.finditer(declarations)
        },
    )
    return sources.block(_entries(synthesize[1], where), classes[1] + "Config")
