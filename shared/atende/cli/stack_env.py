"""Where a running `atende dev` tells other shells how to reach it."""

from __future__ import annotations

import json
import os
from pathlib import Path

STACK_FILE = Path(".atende") / "stack.json"


def write_stack_env(env: dict[str, str], path: Path = STACK_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(env, indent=2))


def load_stack_env(path: Path = STACK_FILE) -> None:
    """Fill in what this shell lacks from the running stack's file (the shell wins)."""
    if not path.exists():
        return
    for name, value in json.loads(path.read_text()).items():
        os.environ.setdefault(name, value)
