"""Google Calendar settings, secret names and its job's name, kept with the channel so a new
channel touches only its own package."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Signs our watch channels: a channel's token is HMAC-SHA256(secret, channel id).
CHANNEL_SECRET = "GOOGLE_CALENDAR_CHANNEL_SECRET"  # noqa: S105 - a secret name
#: The watch job's function name (watch.py).
JOB_NAME = "google_calendar_watch"

GOOGLE_API_BASE_URL = "https://www.googleapis.com/calendar/v3"
#: Read, write and watch a calendar's events (and stop our channels).
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"

#: Google's default (and our) channel lifetime: 7 days.
DEFAULT_WATCH_TTL_SECONDS = 604_800
#: A channel this close to its expiration is replaced.
DEFAULT_RENEW_MARGIN_SECONDS = 86_400


class GoogleCalendarSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_GOOGLE_CALENDAR_", env_file=".env", extra="ignore", frozen=True
    )

    #: Calendar id -> tenant id: the only source of a calendar's tenant, and the calendars
    #: the watch job keeps a push channel for.
    calendars: dict[str, str] = Field(default_factory=dict)
    #: Google's API; anything else (the local fake) is called without Google credentials.
    api_base_url: str = GOOGLE_API_BASE_URL
    #: The deployed `google_calendar_webhook` URL the watch channels deliver to (HTTPS).
    webhook_url: str | None = None
    watch_ttl_seconds: int = Field(default=DEFAULT_WATCH_TTL_SECONDS, ge=60)
    watch_renew_margin_seconds: int = Field(default=DEFAULT_RENEW_MARGIN_SECONDS, ge=0)
