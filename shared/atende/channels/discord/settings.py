"""Discord settings and secret names, kept with the channel so a new channel touches only its
own package."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The application's Ed25519 public key (hex, from the Developer Portal's General Information
#: page). Public by nature, but kept with the secrets so a missing one fails closed.
PUBLIC_KEY = "DISCORD_PUBLIC_KEY"
#: Dev only: the private half of the key pair the local stack signs simulated interactions
#: with (hex, 32 bytes). Discord holds the real private key; production never has this one.
DEV_PRIVATE_KEY = "DISCORD_DEV_PRIVATE_KEY"

DEFAULT_API_BASE_URL = "https://discord.com/api/v10"


class DiscordSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_DISCORD_", env_file=".env", extra="ignore", frozen=True
    )

    #: Application id -> tenant id: the only source of a Discord event's tenant.
    tenants: dict[str, str] = Field(default_factory=dict)
    api_base_url: str = DEFAULT_API_BASE_URL
