"""YouTube's WebSub topic for a channel's uploads, and reading a channel id back from one.

The topic is what we subscribe to and what the hub echoes in its verification request, so
both directions live here. YouTube's guide has named two spellings of the same feed
(`/xml/feeds/videos.xml`, documented today, and `/feeds/videos.xml`, in older and translated
versions); both are read back, only the documented one is subscribed to.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

TOPIC_BASE = "https://www.youtube.com/xml/feeds/videos.xml?channel_id="
_FEED_HOST = "www.youtube.com"
_FEED_PATHS = frozenset({"/xml/feeds/videos.xml", "/feeds/videos.xml"})
_CHANNEL_PAGE_PREFIX = "/channel/"
#: YouTube channel ids are "UC" + 22 base64url characters; we accept any base64url token of
#: sane length, so an id is always safe inside a URL and a storage key.
CHANNEL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
VIDEO_ID = CHANNEL_ID


def topic_url(channel_id: str) -> str:
    """The topic URL YouTube documents for a channel's video feed."""
    if not CHANNEL_ID.fullmatch(channel_id):
        raise ValueError("not a YouTube channel id")
    return TOPIC_BASE + channel_id


def channel_of_topic(topic: object) -> str | None:
    """The channel id of a YouTube video-feed topic URL; None for anything else."""
    if not isinstance(topic, str) or len(topic) > 512:
        return None
    try:
        parts = urlsplit(topic)
        port = parts.port
    except ValueError:
        return None
    if (
        parts.scheme not in ("https", "http")
        or (parts.hostname or "") != _FEED_HOST
        or port is not None
        or parts.username is not None
        or parts.path not in _FEED_PATHS
        or parts.fragment
    ):
        return None
    query = parse_qs(parts.query, keep_blank_values=True)
    values = query.get("channel_id")
    if set(query) != {"channel_id"} or values is None or len(values) != 1:
        return None
    return values[0] if CHANNEL_ID.fullmatch(values[0]) else None


def channel_of_page(url: object) -> str | None:
    """The channel id of a `https://www.youtube.com/channel/<id>` page URL, else None."""
    if not isinstance(url, str) or len(url) > 512:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if (parts.hostname or "") != _FEED_HOST or not parts.path.startswith(_CHANNEL_PAGE_PREFIX):
        return None
    channel = parts.path[len(_CHANNEL_PAGE_PREFIX) :]
    return channel if CHANNEL_ID.fullmatch(channel) else None
