"""How the deployment reaches its AI provider, read from the environment (and `.env`).

Separate from `atende.config.Settings` so the AI step can change (or be left out) without
touching the core settings. The API key is not a setting: it is a secret, read through the
`SecretSource` port under the name `AI_API_KEY`; without one the engine stays deterministic.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The secret holding the provider's API key (Secret Manager id `atende-ai-api-key`).
AI_API_KEY = "ATENDE_AI_API_KEY"


class AiSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_AI_", env_file=".env", extra="ignore", frozen=True
    )

    #: An OpenAI-compatible endpoint (the local AI sandbox in dev); None: OpenAI's own.
    base_url: str | None = None
    #: Used unless the tenant's configuration names another model.
    model: str = "gpt-4o-mini"
    #: Per HTTP attempt. A contact waits for this (twice, with the one retry), so keep it short.
    timeout_seconds: float = Field(default=4.0, gt=0, le=30)
    #: How much of the (redacted) conversation the model sees, newest turns first.
    history_chars: int = Field(default=4000, gt=0)
    breaker_fail_max: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
