"""Apple Calendar settings, secret names and its job's name, kept with the channel so a new
channel touches only its own package."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The Apple Account's app-specific password (never the account password: iCloud refuses it
#: for third-party CalDAV clients). Env locally, Secret Manager `apple-calendar-app-password`.
APP_PASSWORD = "APPLE_CALENDAR_APP_PASSWORD"  # noqa: S105 - a secret name

CHANNEL = "apple_calendar"
#: The poll job's function name (job.py).
POLL_JOB = "apple_calendar_poll"


class AppleCalendarSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_APPLE_CALENDAR_", env_file=".env", extra="ignore", frozen=True
    )

    #: Calendar collection URL -> tenant id: the calendars the poll job syncs, and the only
    #: source of their events' tenant. iCloud URLs look like
    #: https://p<NN>-caldav.icloud.com/<dsid>/calendars/<calendar id>/ (the dev stack points
    #: one at its local Radicale server).
    calendars: dict[str, str] = Field(default_factory=dict)
    #: The Apple Account name (an e-mail address) the app-specific password belongs to.
    username: str | None = None
    #: iCalendar times without a zone ("floating") and all-day dates are read in this zone.
    floating_timezone: str = "America/Sao_Paulo"
