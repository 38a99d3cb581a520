"""Check a Terraform configuration (infra/ and its modules) the way `terraform validate` would
reject it, without the providers: against the schema read by `schema`.

For every directory holding *.tf files (the root module and each module):
- every `resource`, `data` and `provider` block, and every nested block and `dynamic` block in
  it: unknown arguments or blocks, missing required ones, a block written as an argument
  (`rate_limits = { ... }`) or an argument written as a block (`labels { ... }`), a block the
  schema allows once given twice; the meta-arguments (count, for_each, provider, depends_on,
  lifecycle with its conditions, provisioner, connection) are accepted everywhere;
- every module call with a local source: it passes only variables the module declares, and
  every variable without a default;
- every reference in an expression (`var.X`, `local.X`, `module.X`, `module.X.OUTPUT`,
  `data.T.N`, `T.N`) names something declared in the same module;
- every *.tfvars file under the root sets only variables the root module declares.

Expressions are not evaluated: references are read from their text, string literals apart.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions
from tests.infra_schema import schema
from tests.infra_schema.pins import Pin
from tests.infra_schema.schema import Block, NestedBlock

_OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=True)
_IS_BLOCK = "__is_block__"
_NAME = r"[A-Za-z_][\w-]*"
_NOT_AFTER = r"(?<![\w.\-])"
_SIMPLE_REFERENCE = re.compile(rf"{_NOT_AFTER}(var|local|module)\.({_NAME})(?:\.({_NAME}))?")
_DATA_REFERENCE = re.compile(rf"{_NOT_AFTER}data\.({_NAME})\.({_NAME})")
_RESOURCE_REFERENCE = re.compile(rf"{_NOT_AFTER}({_NAME})\.({_NAME})")
#: Built into Terraform, not part of any provider.
_BUILTIN_RESOURCES = {"terraform_data": schema.TERRAFORM_DATA}
_DYNAMIC_ARGUMENTS = {"for_each", "iterator", "labels", "content"}


@dataclass(frozen=True)
class Problem:
    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


@dataclass
class _Module:
    directory: Path
    #: (file, top-level block kind, its body or labelled bodies) in file order.
    blocks: list[tuple[str, str, Any]] = field(default_factory=list)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: set[str] = field(default_factory=set)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: set[str] = field(default_factory=set)
    resources: set[tuple[str, str]] = field(default_factory=set)
    data: set[tuple[str, str]] = field(default_factory=set)


def _is_block(value: Any) -> bool:
    """Written as one or more blocks (`name { ... }`, or `name "label" { ... }`)."""
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(item, dict) and _is_block_body(item) for item in value)
    )


def _is_block_body(item: dict[str, Any]) -> bool:
    if item.get(_IS_BLOCK):
        return True
    # A labelled block is serialised as {label: body}.
    return len(item) == 1 and all(
        isinstance(body, dict) and body.get(_IS_BLOCK) for body in item.values()
    )


def _labelled(blocks: Iterable[dict[str, Any]]) -> Iterator[tuple[str, Any]]:
    for block in blocks:
        for label, body in block.items():
            if label != _IS_BLOCK:
                yield label, body


def _parse(directory: Path, root: Path, problems: list[Problem]) -> _Module:
    module = _Module(directory)
    for path in sorted(directory.glob("*.tf")):
        name = str(path.relative_to(root.parent))
        try:
            with path.open() as handle:
                document = hcl2.load(handle, serialization_options=_OPTIONS)
        except Exception as error:  # python-hcl2 raises lark's errors, several kinds
            problems.append(Problem(name, "-", f"not valid HCL: {error}"))
            continue
        for kind, blocks in document.items():
            for block in blocks:
                module.blocks.append((name, kind, block))
            if kind == "variable":
                module.variables.update(_labelled(blocks))
            elif kind == "locals":
                module.locals.update(k for block in blocks for k in block if k != _IS_BLOCK)
            elif kind == "module":
                module.calls.update(_labelled(blocks))
            elif kind == "output":
                module.outputs.update(label for label, _ in _labelled(blocks))
            elif kind in ("resource", "data"):
                found = {
                    (type_name, name_)
                    for type_name, named in _labelled(blocks)
                    for name_ in named
                    if name_ != _IS_BLOCK
                }
                (module.resources if kind == "resource" else module.data).update(found)
    return module


# -- blocks against the schema ------------------------------------------------------------


def _names_in(block: Block, path: str = "") -> Iterator[tuple[str, str]]:
    """(name, the nested block path holding it) for every argument and block below `block`."""
    for name in block.attributes:
        yield name, path
    for name, nested in block.blocks.items():
        yield name, path
        yield from _names_in(nested.block, f"{path}{name} > ")


def _unknown(name: str, kind: str, schema_block: Block, meta: Block, top: Block) -> str:
    message = f'unknown {kind} "{name}"'
    # Known elsewhere in the same resource: written outside the block it belongs to.
    elsewhere = sorted({path for found, path in _names_in(top) if found == name})
    if elsewhere:
        place = elsewhere[0].removesuffix(" > ")
        return f"{message} here; it belongs " + (f"in block {place}" if place else "at the top")
    known = [*schema_block.attributes, *schema_block.blocks, *meta.attributes, *meta.blocks]
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f'{message} (did you mean "{close[0]}"?)'
    return message


def _check_body(
    body: Mapping[str, Any],
    schema_block: Block,
    meta: Block,
    where: str,
    report: list[str],
    top: Block | None = None,
) -> None:
    """Append to `report` a message for each way `body` departs from `schema_block` (a block
    within `top`, the resource's whole schema)."""
    if schema_block.free_form:
        return
    top = top or schema_block
    present_blocks: set[str] = set()
    for name, value in body.items():
        if name == _IS_BLOCK:
            continue
        if name == "dynamic" and _is_block(value):
            for label, dynamic in _labelled(value):
                present_blocks.add(label)
                _check_dynamic(label, dynamic, schema_block, where, report, top)
            continue
        attribute = schema_block.attributes.get(name) or meta.attributes.get(name)
        nested = schema_block.blocks.get(name) or meta.blocks.get(name)
        if attribute is not None:
            if _is_block(value):
                report.append(
                    f'{where}"{name}" is an argument, not a block: write {name} = ..., '
                    f"not {name} {{ ... }}"
                )
        elif nested is not None:
            if not _is_block(value):
                report.append(
                    f'{where}"{name}" is a block, not an argument: write {name} {{ ... }}, '
                    f"not {name} = ..."
                )
                continue
            present_blocks.add(name)
            _check_blocks(nested, value, where, report, top)
        else:
            kind = "block" if _is_block(value) else "argument"
            report.append(where + _unknown(name, kind, schema_block, meta, top))
    for attribute in schema_block.attributes.values():
        if attribute.required and attribute.name not in body:
            report.append(f'{where}missing required argument "{attribute.name}"')
    for nested in schema_block.blocks.values():
        if nested.required and nested.name not in present_blocks:
            report.append(f'{where}missing required block "{nested.name}"')


def _check_blocks(
    nested: NestedBlock, value: list[Any], where: str, report: list[str], top: Block
) -> None:
    if nested.max_one and len(value) > 1:
        report.append(
            f'{where}block "{nested.name}" is allowed once (max_items = 1), '
            f"given {len(value)} times"
        )
    for index, instance in enumerate(value):
        suffix = f"[{index}]" if len(value) > 1 else ""
        if nested.name == "provisioner":  # provisioner "local-exec" { ... }
            continue
        at = f"{where}{nested.name}{suffix} > "
        _check_body(instance, nested.block, schema.Block(), at, report, top)


def _check_dynamic(
    label: str,
    dynamic: Mapping[str, Any],
    schema_block: Block,
    where: str,
    report: list[str],
    top: Block,
) -> None:
    at = f'{where}dynamic "{label}" > '
    nested = schema_block.blocks.get(label)
    if nested is None:
        if label in schema_block.attributes:
            report.append(f'{at}"{label}" is an argument; dynamic generates blocks only')
        else:
            report.append(at + _unknown(label, "block", schema_block, schema.Block(), top))
        return
    for name in dynamic:
        if name not in _DYNAMIC_ARGUMENTS and name != _IS_BLOCK:
            report.append(
                f'{at}unknown argument "{name}" '
                f"(a dynamic block takes {sorted(_DYNAMIC_ARGUMENTS)})"
            )
    if "for_each" not in dynamic:
        report.append(f'{at}missing required argument "for_each"')
    content: list[Any] = dynamic.get("content") or []
    if not _is_block(content) or len(content) != 1:
        report.append(f"{at}needs exactly one content {{ ... }} block")
        return
    _check_body(content[0], nested.block, schema.Block(), f"{at}content > ", report, top)


# -- references -------------------------------------------------------------------------------


def _expression_code(text: str) -> str:
    """The code of every ${...} and %{...} in a template, string literals in it blanked out."""
    parts: list[str] = []
    _template(text, 0, parts, quoted=False)
    return " ".join(parts)


def _template(text: str, i: int, parts: list[str], *, quoted: bool) -> int:
    while i < len(text):
        char = text[i]
        if quoted and char == "\\":
            i += 2
            continue
        if quoted and char == '"':
            return i + 1
        if text.startswith(("$${", "%%{"), i):
            i += 3
            continue
        if text.startswith(("${", "%{"), i):
            i = _expression(text, i + 2, parts)
            continue
        i += 1
    return i


def _expression(text: str, i: int, parts: list[str]) -> int:
    code: list[str] = []
    depth = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            code.append(" ")
            i = _template(text, i + 1, parts, quoted=True)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                parts.append("".join(code))
                return i + 1
            depth -= 1
        code.append(char)
        i += 1
    parts.append("".join(code))
    return i


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != _IS_BLOCK:
                yield from _strings(key)
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_references(
    module: _Module,
    modules: Mapping[Path, _Module],
    provider_names: set[str],
    where: str,
    value: Any,
    report: list[str],
) -> None:
    def is_resource_type(name: str) -> bool:
        # google_x, not google.alias (a provider reference).
        return name in _BUILTIN_RESOURCES or any(name.startswith(f"{p}_") for p in provider_names)

    for text in _strings(value):
        code = _expression_code(text)
        for kind, name, attribute in _SIMPLE_REFERENCE.findall(code):
            if kind == "var" and name not in module.variables:
                report.append(f'{where}var.{name} refers to an undeclared variable "{name}"')
            elif kind == "local" and name not in module.locals:
                report.append(f'{where}local.{name} refers to an undeclared local value "{name}"')
            elif kind == "module":
                if name not in module.calls:
                    report.append(f'{where}module.{name} refers to an undeclared module "{name}"')
                    continue
                called = modules.get(_module_directory(module, name) or Path("/nonexistent"))
                if attribute and called is not None and attribute not in called.outputs:
                    report.append(
                        f'{where}module.{name}.{attribute}: module "{name}" has no output '
                        f'"{attribute}"'
                    )
        for type_name, name in _DATA_REFERENCE.findall(code):
            if (type_name, name) not in module.data:
                report.append(f"{where}data.{type_name}.{name} refers to an undeclared data source")
        for type_name, name in _RESOURCE_REFERENCE.findall(code):
            if is_resource_type(type_name) and (type_name, name) not in module.resources:
                report.append(f"{where}{type_name}.{name} refers to an undeclared resource")


# -- modules ----------------------------------------------------------------------------------


def _module_directory(module: _Module, call: str) -> Path | None:
    source = module.calls[call].get("source")
    if not isinstance(source, str) or not source.startswith(("./", "../")):
        return None
    return (module.directory / source).resolve()


def _check_call(
    module: _Module, call: str, modules: Mapping[Path, _Module], where: str, report: list[str]
) -> None:
    body = module.calls[call]
    directory = _module_directory(module, call)
    if directory is None:
        return  # a registry or remote module: its variables are not here to check
    called = modules.get(directory)
    if called is None:
        report.append(f'{where}source "{body.get("source")}" is not a directory of *.tf files')
        return
    for name in body:
        if name == _IS_BLOCK or name in schema.MODULE_META:
            continue
        if name not in called.variables:
            close = difflib.get_close_matches(name, list(called.variables), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            report.append(f'{where}passes "{name}", which the module does not declare{hint}')
    for name, variable in called.variables.items():
        if "default" not in variable and name not in body:
            report.append(f'{where}does not pass "{name}", which the module requires (no default)')


# -- the whole configuration ------------------------------------------------------------------


class Checker:
    """Checks a root module directory and every module directory below it."""

    def __init__(self, pins: Iterable[Pin]) -> None:
        self._pins = {pin.name: pin for pin in pins}

    def _schema(self, kind: str, type_name: str) -> tuple[Block | None, str]:
        if kind == "provider":
            provider = type_name
        elif kind == "resource" and type_name in _BUILTIN_RESOURCES:
            return _BUILTIN_RESOURCES[type_name], ""
        else:
            provider = type_name.split("_", 1)[0]
        pin = self._pins.get(provider)
        if pin is None:
            return None, f'no pinned provider "{provider}" (required_providers) to check it against'
        found = schema.load(pin, kind, type_name)
        if found is None:
            what = {"resource": "resource type", "data": "data source"}.get(kind, "provider")
            return None, (
                f'{pin.source} {pin.version} has no {what} "{type_name}" ({pin.package}@'
                f"{pin.package_version})"
            )
        return found, ""

    def check(self, root: Path) -> list[Problem]:
        problems: list[Problem] = []
        root = root.resolve()
        directories = sorted({path.parent for path in _files(root, "*.tf")})
        modules = {directory: _parse(directory, root, problems) for directory in directories}
        for module in modules.values():
            self._check_module(module, modules, problems)
        root_module = modules.get(root)
        for path in _files(root, "*.tfvars"):
            self._check_tfvars(path, root, root_module, problems)
        return problems

    def _check_module(
        self, module: _Module, modules: Mapping[Path, _Module], problems: list[Problem]
    ) -> None:
        for file, kind, block in module.blocks:
            report: list[str] = []
            if kind in ("resource", "data"):
                meta = schema.RESOURCE_META if kind == "resource" else schema.DATA_META
                for type_name, named in _labelled([block]):
                    for _name, body in _labelled([named]):
                        found, why = self._schema(kind, type_name)
                        if found is None:
                            report.append(why)
                        else:
                            _check_body(body, found, meta, "", report)
            elif kind == "provider":
                for name, body in _labelled([block]):
                    found, why = self._schema("provider", name)
                    if found is None:
                        report.append(why)
                    else:
                        _check_body(body, found, schema.PROVIDER_META, "", report)
            elif kind == "module":
                for name, _ in _labelled([block]):
                    _check_call(module, name, modules, "", report)
            _check_references(module, modules, set(self._pins), "", block, report)
            problems.extend(Problem(file, _address(kind, block), line) for line in report)

    @staticmethod
    def _check_tfvars(
        path: Path, root: Path, root_module: _Module | None, problems: list[Problem]
    ) -> None:
        name = str(path.relative_to(root.parent))
        with path.open() as handle:
            values = hcl2.load(handle, serialization_options=_OPTIONS)
        declared = root_module.variables if root_module else {}
        for key in values:
            if key not in declared:
                problems.append(
                    Problem(name, key, "sets a variable the root module does not declare")
                )


def _files(root: Path, pattern: str) -> list[Path]:
    """Files under root, not those `terraform init` downloaded into a .terraform/ folder."""
    return sorted(path for path in root.rglob(pattern) if ".terraform" not in path.parts)


def _address(kind: str, block: Mapping[str, Any]) -> str:
    labels = [label for label in block if label != _IS_BLOCK]
    if kind in ("resource", "data") and labels:
        inner = [n for n in block[labels[0]] if n != _IS_BLOCK]
        return f"{kind} {labels[0]}.{inner[0] if inner else '?'}"
    if kind in ("locals", "terraform"):
        return kind
    return f"{kind} {labels[0]}" if labels else kind
