"""Instagram settings and secret names, kept with the channel so a new channel touches only
its own package."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_SECRET = "INSTAGRAM_APP_SECRET"  # noqa: S105 - a secret name
VERIFY_TOKEN = "INSTAGRAM_VERIFY_TOKEN"  # noqa: S105 - a secret name
ACCESS_TOKEN = "INSTAGRAM_ACCESS_TOKEN"  # noqa: S105 - a secret name


class InstagramSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_INSTAGRAM_", env_file=".env", extra="ignore", frozen=True
    )

    #: Instagram professional account id -> tenant id: the only source of an event's tenant.
    tenants: dict[str, str] = Field(default_factory=dict)
    api_base_url: str = "https://graph.facebook.com/v23.0"
    #: Instagram account id -> the Facebook Page linked to it. On graph.facebook.com, Messenger
    #: API support for Instagram sends from `/{page id}/messages` with a Page token; an account
    #: not listed sends from `/{account id}/messages` (Instagram API with Instagram Login, on
    #: graph.instagram.com).
    page_ids: dict[str, str] = Field(default_factory=dict)
