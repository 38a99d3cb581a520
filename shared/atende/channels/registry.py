"""Which channels exist: every package under `atende.channels` with a `wiring` module."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from types import ModuleType

import atende.channels


def channel_names(with_module: str = "wiring") -> list[str]:
    """Channel packages that have `with_module` (wiring, sample…), sorted."""
    found = []
    for module in pkgutil.iter_modules(atende.channels.__path__):
        name = f"atende.channels.{module.name}.{with_module}"
        if module.ispkg and importlib.util.find_spec(name) is not None:
            found.append(module.name)
    return sorted(found)


def dev_env(sandbox_url: str) -> dict[str, str]:
    """Every channel's dev-only settings and secrets (`sample.dev_env(sandbox_url)`): what
    the local stack gives the functions so that each channel talks to the sandbox."""
    env: dict[str, str] = {}
    for channel in channel_names("sample"):
        sample: ModuleType = importlib.import_module(f"atende.channels.{channel}.sample")
        build = getattr(sample, "dev_env", None)
        if build is not None:
            env.update(build(sandbox_url))
    return env
