"""TikTok settings and secret names, kept with the channel so a new channel touches only its
own package. There is no API base URL: this channel calls no TikTok API."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from atende.channels.tiktok.verify import DEFAULT_TOLERANCE_SECONDS

#: Signs every delivery (TikTok-Signature).
CLIENT_SECRET = "TIKTOK_CLIENT_SECRET"  # noqa: S105 - a secret name


class TikTokSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_TIKTOK_", env_file=".env", extra="ignore", frozen=True
    )

    #: Client key (the app TikTok provisioned) -> tenant id: the only source of a TikTok
    #: event's tenant.
    tenants: dict[str, str] = Field(default_factory=dict)
    #: A signed timestamp further than this from our clock is a replay.
    signature_tolerance_seconds: int = Field(default=DEFAULT_TOLERANCE_SECONDS, ge=1, le=3600)
