"""Messenger settings and secret names, kept with the channel so a new channel touches only
its own package."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_SECRET = "MESSENGER_APP_SECRET"  # noqa: S105 - a secret name
VERIFY_TOKEN = "MESSENGER_VERIFY_TOKEN"  # noqa: S105 - a secret name
PAGE_ACCESS_TOKEN = "MESSENGER_PAGE_ACCESS_TOKEN"  # noqa: S105 - a secret name


class MessengerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_MESSENGER_", env_file=".env", extra="ignore", frozen=True
    )

    #: Facebook Page id -> tenant id: the only source of a Messenger event's tenant.
    tenants: dict[str, str] = Field(default_factory=dict)
    api_base_url: str = "https://graph.facebook.com/v23.0"
