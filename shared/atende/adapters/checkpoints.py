"""Checkpoints between worker steps, and a dev-only fault injector that crashes at one.

The injector is how tests prove that a crash between any two steps, followed by the queue's
redelivery, yields exactly one effect: it kills the whole process, like an instance dying.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

#: The exit status of an injected crash, so a supervisor's log tells it from a real one.
CRASH_EXIT_CODE = 70


class NoCheckpoints:
    """Production: checkpoints cost nothing and do nothing."""

    def reached(self, name: str) -> None:
        return None


class CrashOnceAt:
    """Crash the process the first time a named checkpoint is reached.

    The fault file holds `{"crash_at": "<checkpoint>"}`; it is removed before crashing, so
    the redelivered task runs through. Reading it on every checkpoint lets a running stack
    be armed without a restart.
    """

    def __init__(self, fault_file: str | os.PathLike[str]) -> None:
        self._path = Path(fault_file)

    def reached(self, name: str) -> None:
        try:
            armed = json.loads(self._path.read_text()).get("crash_at")
        except (OSError, ValueError):
            return
        if armed != name:
            return
        self._path.unlink(missing_ok=True)
        logger.warning("injected crash", extra={"json_fields": {"checkpoint": name}})
        os._exit(CRASH_EXIT_CODE)
