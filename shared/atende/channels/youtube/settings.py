"""YouTube settings, secret names and its job's name, kept with the channel so a new channel
touches only its own package."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from atende.channels.youtube.topics import CHANNEL_ID

#: The `hub.secret` we subscribe with; the hub signs every notification with it.
HUB_SECRET = "YOUTUBE_HUB_SECRET"  # noqa: S105 - a secret name
#: The renewal job's function name (renew.py).
JOB_NAME = "youtube_renew"

#: Google's hub, the one YouTube's guide names.
DEFAULT_HUB_URL = "https://pubsubhubbub.appspot.com/subscribe"


class YouTubeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_YOUTUBE_", env_file=".env", extra="ignore", frozen=True
    )

    #: YouTube channel id -> tenant id: the channels we subscribe to, and the only source of
    #: an event's tenant.
    topics: dict[str, str] = Field(default_factory=dict)
    #: Where subscriptions are requested (the dev stack points it to the sandbox).
    hub_url: str = DEFAULT_HUB_URL
    #: Our deployed `youtube_webhook` URL, the `hub.callback` of every subscription.
    callback_url: str | None = None
    #: The lease we ask for (Google's hub grants 5 days by default).
    lease_seconds: int = Field(default=432_000, gt=0)
    #: A subscription is renewed when its lease ends within this margin.
    renew_margin_seconds: int = Field(default=86_400, ge=0)

    @field_validator("topics")
    @classmethod
    def _channel_ids(cls, topics: dict[str, str]) -> dict[str, str]:
        # A typo would otherwise surface only as a hub verification we silently refuse.
        bad = [key for key in topics if not CHANNEL_ID.fullmatch(key)]
        if bad:
            raise ValueError(f"{len(bad)} key(s) of ATENDE_YOUTUBE_TOPICS are not channel ids")
        return topics
