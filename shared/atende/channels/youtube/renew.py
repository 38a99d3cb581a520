"""The `youtube_renew` job: keep every configured channel's subscription alive.

WebSub leases expire (WebSub §5.3: the subscriber MUST re-request before the lease ends), so
a scheduled job re-subscribes each configured channel whose stored lease ends within the
margin, is unknown, or was taken with another hub, callback or secret. Re-subscribing an
active subscription is harmless: the hub replaces it once our callback confirms.

The stored lease is `youtube:lease:<channel id>` in the channel state. Its expiry is the
lease we asked for, counted from our request: the hub may grant less, so the lease asked
for should not exceed the hub's (Google's hub grants 5 days by default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from atende.channels.plugin import JobReport
from atende.channels.youtube.hub import Hub, check_callback_url, subscription_form
from atende.channels.youtube.settings import HUB_SECRET, YouTubeSettings
from atende.channels.youtube.topics import topic_url
from atende.domain.keys import stable_hash
from atende.errors import ConfigurationError, ProviderPermanentError, ProviderTransientError
from atende.ports import ChannelStateStore, Clock, SecretSource

logger = logging.getLogger(__name__)

LEASE_KEY_PREFIX = "youtube:lease:"


def lease_key(channel_id: str) -> str:
    return LEASE_KEY_PREFIX + channel_id


def _fingerprint(kind: str, value: str) -> str:
    # Stored to notice a changed callback or a rotated secret, never the values themselves
    # (a callback may be a capability URL). A 64-bit prefix of a hash of a random secret
    # reveals nothing usable about it.
    return stable_hash("youtube", kind, value)[:16]


class SubscriptionRenewal:
    """Callable as a scheduled job: returns PII-free counts."""

    def __init__(
        self,
        settings: YouTubeSettings,
        hub: Hub,
        secrets: SecretSource,
        state: Callable[[], ChannelStateStore],
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._hub = hub
        self._secrets = secrets
        self._state = state
        self._clock = clock

    def __call__(self) -> JobReport:
        settings = self._settings
        callback = check_callback_url(settings.callback_url)
        secret = self._secrets.get(HUB_SECRET)
        if not secret:
            # Subscribing without a secret would make every notification unverifiable.
            raise ConfigurationError(f"{HUB_SECRET} is not configured")
        wanted = {
            "hub": settings.hub_url,
            "callback_ref": _fingerprint("callback", callback),
            "secret_ref": _fingerprint("secret", secret),
        }
        store = self._state()
        margin = timedelta(seconds=settings.renew_margin_seconds)
        renewed = kept = 0
        failures: list[str] = []
        for channel_id in sorted(settings.topics):
            key = lease_key(channel_id)
            topic = topic_url(channel_id)
            if not _due(store.get(key), {**wanted, "topic": topic}, self._clock.now(), margin):
                kept += 1
                continue
            form = subscription_form(
                topic=topic,
                callback=callback,
                lease_seconds=settings.lease_seconds,
                secret=secret,
            )
            requested_at = self._clock.now()
            try:
                self._hub.request(form)
            except (ProviderTransientError, ProviderPermanentError) as error:
                # One hub failure must not cost the other channels their renewal.
                failures.append(error.code)
                logger.warning(
                    "YouTube subscription not renewed",
                    extra={"json_fields": {"account_id": channel_id, "outcome": error.code}},
                )
                continue
            store.put(
                key,
                {
                    "channel_id": channel_id,
                    "topic": topic,
                    **wanted,
                    "lease_seconds": settings.lease_seconds,
                    "requested_at": requested_at.isoformat(),
                    "expires_at": (
                        requested_at + timedelta(seconds=settings.lease_seconds)
                    ).isoformat(),
                },
            )
            renewed += 1
        report: JobReport = {"renewed": renewed, "kept": kept, "failed": len(failures)}
        if failures and not renewed:
            # Nothing we tried went through: let Cloud Scheduler retry the job soon.
            raise ProviderTransientError(
                f"no YouTube subscription renewed ({len(failures)} failed)",
                code="youtube_renew_failed",
            )
        return report


def _due(
    stored: dict[str, Any] | None, wanted: dict[str, str], now: datetime, margin: timedelta
) -> bool:
    if stored is None or any(stored.get(field) != value for field, value in wanted.items()):
        return True
    expires_at = _instant(stored.get("expires_at"))
    return expires_at is None or expires_at - now <= margin


def _instant(value: object) -> datetime | None:
    """The stored ISO 8601 expiry (we write strings: portable across state stores)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
