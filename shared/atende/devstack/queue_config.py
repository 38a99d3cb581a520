"""Retry settings of the Cloud Tasks queues, as Terraform sets them, for the local emulator.

`infra/variables.tf` declares `queue_settings` (a map "inbound"/"outbound" -> rate limits and
retry config, see infra/queues.tf); `terraform_queue_settings()` reads its defaults with
python-hcl2 so the dev stack retries with the very values the cloud queues get, overridable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from atende.packaging import REPO_ROOT

VARIABLES_TF = REPO_ROOT / "infra" / "variables.tf"


class QueueRetryConfig(BaseModel):
    """A queue's RetryConfig, with Terraform's `queue_settings` field names.

    Cloud Tasks attempts a task `max_attempts` times in all, the first included (-1:
    unlimited), then deletes it; between attempts it waits `min_backoff_seconds`, doubled
    `max_doublings` times, then increased linearly by that last interval, capped at
    `max_backoff_seconds` (RetryConfig.max_doublings: min 10 s, max 300 s, 3 doublings retry
    at 10, 20, 40, 80, 160, 240, 300, 300 s...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(ge=-1)
    min_backoff_seconds: float = Field(ge=0)
    max_backoff_seconds: float = Field(ge=0)
    max_doublings: int = Field(ge=0)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.max_attempts == 0:
            raise ValueError("max_attempts must be -1 (unlimited) or at least 1")
        if self.min_backoff_seconds > self.max_backoff_seconds:
            raise ValueError("min_backoff_seconds must not exceed max_backoff_seconds")
        return self

    def emulator_json(self) -> dict[str, Any]:
        """The entry of the emulator's --queue-config file."""
        return self.model_dump()


def terraform_queue_settings(
    variables_tf: Path = VARIABLES_TF,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> dict[str, QueueRetryConfig]:
    """The defaults of `queue_settings` in `variables_tf`, keyed like it ("inbound",
    "outbound"); `overrides` replaces fields per key, e.g. {"inbound": {"max_attempts": 5}}.
    Rate-limit fields are not retry settings and are left out."""
    import hcl2  # a dev dependency, like the dev stack that uses this
    from hcl2 import SerializationOptions

    options = SerializationOptions(
        strip_string_quotes=True, with_comments=False, explicit_blocks=False
    )
    with variables_tf.open() as handle:
        document = hcl2.load(handle, serialization_options=options)
    declared = {
        name: body for block in document.get("variable", []) for name, body in block.items()
    }
    if "queue_settings" not in declared:
        raise ValueError(f"{variables_tf} declares no variable queue_settings")
    defaults: dict[str, dict[str, Any]] = declared["queue_settings"].get("default") or {}
    fields = QueueRetryConfig.model_fields
    settings = {
        key: QueueRetryConfig(**{name: value for name, value in values.items() if name in fields})
        for key, values in defaults.items()
    }
    for key, changes in (overrides or {}).items():
        if key not in settings:
            raise ValueError(f"no queue {key!r} in queue_settings: {sorted(settings)}")
        settings[key] = QueueRetryConfig(**{**settings[key].model_dump(), **changes})
    return settings
