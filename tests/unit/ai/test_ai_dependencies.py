"""`atende.ai` stays pure: the client libraries belong to its adapter.

The prompt, contract and validation are pure code the engine and its tests load freely; the
HTTP client, circuit breaker and retry libraries are the business of
`atende.adapters.openai_client`. Imports under `if TYPE_CHECKING:` are allowed: they name
types for the checker (the prompt is typed as OpenAI's chat format) and never run.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Final

import atende.ai

FORBIDDEN: Final = frozenset({"openai", "pybreaker", "tenacity"})


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_imports(node: ast.AST) -> set[str]:
    """The top-level package of every import that runs, in `node` and below."""
    found: set[str] = set()
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        children: list[ast.AST] = list(node.orelse)
    else:
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.partition(".")[0])
    for child in children:
        found |= _runtime_imports(child)
    return found


def _imports_of(path: Path) -> set[str]:
    return _runtime_imports(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))


def _ai_modules() -> list[Path]:
    return sorted(Path(atende.ai.__file__).parent.rglob("*.py"))


def test_no_ai_module_imports_a_client_library() -> None:
    offenders = {
        path.name: sorted(_imports_of(path) & FORBIDDEN)
        for path in _ai_modules()
        if _imports_of(path) & FORBIDDEN
    }
    assert offenders == {}


def test_the_check_reads_every_ai_module() -> None:
    names = {path.name for path in _ai_modules()}
    assert {"__init__.py", "contract.py", "prompt.py", "validate.py"} <= names
    assert "openai_client.py" not in names


def test_the_check_sees_the_adapter_import_all_three() -> None:
    # Guards the checker itself: a parser that missed imports would pass the first test.
    # Found, not imported: loading `openai` would slow every unit run for nothing.
    spec = importlib.util.find_spec("atende.adapters.openai_client")
    assert spec is not None and spec.origin is not None
    assert _imports_of(Path(spec.origin)) >= FORBIDDEN


def test_type_checking_imports_are_ignored_but_others_are_not() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import typing\n"
        "if TYPE_CHECKING:\n"
        "    import openai\n"
        "if typing.TYPE_CHECKING:\n"
        "    from pybreaker import CircuitBreaker\n"
        "else:\n"
        "    import tenacity.retry\n"
        "def lazy() -> None:\n"
        "    from openai import OpenAI\n"
    )
    assert _runtime_imports(ast.parse(source)) == {"typing", "tenacity", "openai"}
