"""Builds realistic, signed WebSub notifications of a YouTube channel feed, for
`atende simulate youtube` and the tests. The Atom shape is the one YouTube's "Subscribe to
push notifications" guide shows; the tombstone is RFC 6721's, as YouTube sends it."""

from __future__ import annotations

import hmac
import json
import secrets as random
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from atende.channels.base import SimulatedDelivery
from atende.channels.youtube.settings import HUB_SECRET
from atende.channels.youtube.topics import topic_url
from atende.channels.youtube.verify import SIGNATURE_HEADER
from atende.errors import ConfigurationError
from atende.ports import SecretSource

#: The dev stack's channel (map it to a tenant in ATENDE_YOUTUBE_TOPICS).
DEV_CHANNEL_ID = "UCdv3AtendeDevChannel01A"
DEV_CHANNEL_TITLE = "Atende Demo"
CONTENT_TYPE = "application/atom+xml"
HUB = "https://pubsubhubbub.appspot.com"


def signature_for(body: bytes, hub_secret: str, method: str = "sha1") -> str:
    """The X-Hub-Signature value the hub sends for `body` (Google's hub signs with sha1)."""
    return f"{method}=" + hmac.new(hub_secret.encode("utf-8"), body, method).hexdigest()


def new_video_id() -> str:
    """11 base64url characters, like YouTube's video ids."""
    return random.token_urlsafe(8)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _feed(channel_id: str, items: str, *, namespaces: str, updated: datetime) -> bytes:
    topic = escape(topic_url(channel_id))
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<feed {namespaces} xmlns="http://www.w3.org/2005/Atom">\n'
        f'  <link rel="hub" href="{HUB}"/>\n'
        f'  <link rel="self" href="{topic}"/>\n'
        "  <title>YouTube video feed</title>\n"
        f"  <updated>{rfc3339(updated)}</updated>\n"
        f"{items}"
        "</feed>\n"
    ).encode()


def video_notification(
    *,
    video_id: str,
    title: str,
    published: datetime,
    updated: datetime,
    channel_id: str = DEV_CHANNEL_ID,
    channel_title: str = DEV_CHANNEL_TITLE,
) -> bytes:
    """One uploaded (updated == published, give or take) or edited video."""
    entry = (
        "  <entry>\n"
        f"    <id>yt:video:{escape(video_id)}</id>\n"
        f"    <yt:videoId>{escape(video_id)}</yt:videoId>\n"
        f"    <yt:channelId>{escape(channel_id)}</yt:channelId>\n"
        f"    <title>{escape(title)}</title>\n"
        f'    <link rel="alternate" href="https://www.youtube.com/watch?v={escape(video_id)}"/>\n'
        "    <author>\n"
        f"      <name>{escape(channel_title)}</name>\n"
        f"      <uri>https://www.youtube.com/channel/{escape(channel_id)}</uri>\n"
        "    </author>\n"
        f"    <published>{rfc3339(published)}</published>\n"
        f"    <updated>{rfc3339(updated)}</updated>\n"
        "  </entry>\n"
    )
    namespaces = 'xmlns:yt="http://www.youtube.com/xml/schemas/2015"'
    return _feed(channel_id, entry, namespaces=namespaces, updated=updated)


def deleted_notification(
    *,
    video_id: str,
    when: datetime,
    channel_id: str = DEV_CHANNEL_ID,
    channel_title: str = DEV_CHANNEL_TITLE,
) -> bytes:
    """A video deleted (or made private): an RFC 6721 tombstone."""
    ref = quoteattr(f"yt:video:{video_id}")
    tombstone = (
        f"  <at:deleted-entry ref={ref} when={quoteattr(rfc3339(when))}>\n"
        f'    <link href="https://www.youtube.com/watch?v={escape(video_id)}"/>\n'
        "    <at:by>\n"
        f"      <name>{escape(channel_title)}</name>\n"
        f"      <uri>https://www.youtube.com/channel/{escape(channel_id)}</uri>\n"
        "    </at:by>\n"
        "  </at:deleted-entry>\n"
    )
    namespaces = 'xmlns:at="http://purl.org/atompub/tombstones/1.0"'
    return _feed(channel_id, tombstone, namespaces=namespaces, updated=when)


def signed_headers(body: bytes, secrets: SecretSource) -> dict[str, str]:
    """The headers the hub sends with `body`, signed with our hub secret."""
    secret = secrets.get(HUB_SECRET)
    if not secret:
        raise ConfigurationError(f"{HUB_SECRET} is not set")
    return {
        "content-type": CONTENT_TYPE,
        "link": f'<{HUB}>; rel="hub", <{topic_url(DEV_CHANNEL_ID)}>; rel="self"',
        SIGNATURE_HEADER: signature_for(body, secret),
    }


def simulated_delivery(text: str, contact: str, secrets: SecretSource) -> SimulatedDelivery:
    """What `atende simulate youtube` posts: a new upload titled `text` on the dev channel.
    YouTube notifications name no person, so `contact` is not used."""
    now = datetime.now(UTC)
    body = video_notification(video_id=new_video_id(), title=text, published=now, updated=now)
    return SimulatedDelivery(body=body, headers=signed_headers(body, secrets))


def dev_env(sandbox_url: str) -> dict[str, str]:
    """The dev stack's settings: the dev channel maps to the demo tenant, and the renewal
    job subscribes at the sandbox, which stands in for Google's hub."""
    return {
        "ATENDE_YOUTUBE_TOPICS": json.dumps({DEV_CHANNEL_ID: "demo"}),
        "ATENDE_YOUTUBE_HUB_URL": f"{sandbox_url}/youtube/subscribe",
        "ATENDE_YOUTUBE_CALLBACK_URL": "http://127.0.0.1:8080/youtube_webhook",
        HUB_SECRET: "dev-hub-secret",
    }
