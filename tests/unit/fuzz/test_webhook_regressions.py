"""What testing the running stack with signed deliveries found, through each channel's real
connector and the real edge: lone surrogates got 500 from every JSON webhook, and a
2,000-entry YouTube feed got 503 every time."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from webhook_support import JSON_CHANNELS, Webhooks, build_webhooks

from atende.channels.discord import sample as discord_sample
from atende.channels.instagram import sample as instagram_sample
from atende.channels.linkedin import sample as linkedin_sample
from atende.channels.messenger import sample as messenger_sample
from atende.channels.tiktok import sample as tiktok_sample
from atende.channels.whatsapp import sample as whatsapp_sample
from atende.channels.youtube import sample as youtube_sample
from atende.domain.events import CommentReceived, MessageReceived, UnsupportedEvent
from atende.webhook.batcher import MAX_BATCH_EVENTS
from atende.webhook.task_bodies import MAX_TASK_BODY_BYTES

OI = "Oi \ud83d"
OLA = "\udc00 ola"


@pytest.fixture(scope="module")
def webhooks() -> Webhooks:
    return build_webhooks()


def escaped(payload: dict[str, Any]) -> bytes:
    """As Meta and most providers send JSON: non-ASCII as \\u escapes (so "\\ud83d")."""
    return json.dumps(payload).encode("ascii")


def text_deliveries(text: str) -> dict[str, bytes]:
    """A signed-ready message (or comment) with `text`, per JSON channel."""
    tiktok = tiktok_sample.new_comment(7_094_637_247_890_620_418, user_openid=text)
    return {
        "whatsapp": escaped(
            whatsapp_sample.delivery([whatsapp_sample.text_message("5511999990000", text)])
        ),
        "messenger": escaped(
            messenger_sample.delivery([messenger_sample.text_message("6254112394618451", text)])
        ),
        "instagram": escaped(
            instagram_sample.delivery([instagram_sample.text_message("1783", text)])
        ),
        "linkedin": escaped(
            linkedin_sample.delivery([linkedin_sample.comment_notification("abc", text)])
        ),
        "tiktok": escaped(tiktok),
        "discord": escaped(discord_sample.slash_command("53908232506183680", text)),
    }


def enqueued_events(webhooks: Webhooks, channel: str, body: bytes) -> list[Any]:
    response, queue, _ = webhooks.deliver(channel, webhooks.signed(channel, body))
    assert 200 <= response.status < 300, (response.status, response.body)
    return [task.event for task in queue.inbound_tasks()]


@pytest.mark.parametrize("text", [OI, OLA])
@pytest.mark.parametrize("channel", JSON_CHANNELS)
def test_a_lone_surrogate_in_a_signed_message_is_kept_as_the_replacement_character(
    webhooks: Webhooks, channel: str, text: str
) -> None:
    body = text_deliveries(text)[channel]
    assert b"\\ud83d" in body or b"\\udc00" in body
    (event,) = enqueued_events(webhooks, channel, body)
    repaired = text.replace("\ud83d", "\ufffd").replace("\udc00", "\ufffd")
    if channel == "tiktok":  # TikTok's comment events carry no text: its raw user id
        assert isinstance(event, CommentReceived) and event.raw["user_openid"] == repaired
    else:
        assert isinstance(event, MessageReceived | CommentReceived)
        assert event.text == repaired
    assert "\ufffd" in json.dumps(event.raw, ensure_ascii=False)


@pytest.mark.parametrize("channel", JSON_CHANNELS)
def test_a_lone_surrogate_anywhere_in_a_signed_body_is_kept_replaced(
    webhooks: Webhooks, channel: str
) -> None:
    (event,) = enqueued_events(webhooks, channel, b'{"a":"\\ud800"}')
    assert isinstance(event, UnsupportedEvent)
    assert event.raw == {"a": "\ufffd"}


@pytest.mark.parametrize("channel", JSON_CHANNELS)
def test_a_redelivered_body_with_lone_surrogates_gets_the_same_task_names(
    webhooks: Webhooks, channel: str
) -> None:
    body = text_deliveries(OLA)[channel]
    edge, queue = webhooks.edge(channel)
    asyncio.run(edge.handle(webhooks.signed(channel, body), "corr-1"))
    asyncio.run(edge.handle(webhooks.signed(channel, body), "corr-2"))
    assert len(queue.created) == 1
    assert [t.task_id for t in queue.refused_duplicates] == [queue.created[0].task_id]


def test_json_nested_in_a_tiktok_string_may_hold_a_lone_surrogate_too(
    webhooks: Webhooks,
) -> None:
    delivery = tiktok_sample.new_comment(7_094_637_247_890_620_418)
    # TikTok's `content` is JSON text: its escape decodes only when the parser reads it.
    delivery["content"] = delivery["content"][:-1] + ', "note": "\\ud800"}'
    (event,) = enqueued_events(webhooks, "tiktok", escaped(delivery))
    assert isinstance(event, CommentReceived)


def feed(entries: int) -> bytes:
    """A WebSub notification of the dev channel with `entries` uploads."""
    start = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    items = []
    for n in range(entries):
        moment = (start + timedelta(seconds=n)).isoformat()
        video = f"vid{n:08d}"
        items.append(
            f"<entry><id>yt:video:{video}</id><yt:videoId>{video}</yt:videoId>"
            f"<yt:channelId>{youtube_sample.DEV_CHANNEL_ID}</yt:channelId>"
            f"<title>Video {n}</title><published>{moment}</published>"
            f"<updated>{moment}</updated></entry>\n"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<feed xmlns:yt='http://www.youtube.com/xml/schemas/2015' "
        "xmlns='http://www.w3.org/2005/Atom'>\n"
        f"{''.join(items)}</feed>\n"
    ).encode()


def test_a_2000_entry_youtube_feed_is_enqueued_in_several_tasks_each_entry_once(
    webhooks: Webhooks,
) -> None:
    body = feed(2000)
    assert 400_000 < len(body) < 1024 * 1024
    response, queue, _ = webhooks.deliver("youtube", webhooks.signed("youtube", body))
    assert response.status == 200
    assert 20 <= len(queue.created) < 100  # parts of a batch's size, not a task per entry
    assert all(len(task.body) <= MAX_TASK_BODY_BYTES for task in queue.created)
    videos = Counter(event.video_id for event in (t.event for t in queue.inbound_tasks()))
    assert len(videos) == 2000 and set(videos.values()) == {1}


def test_a_redelivered_2000_entry_feed_finds_its_tasks_already_enqueued(
    webhooks: Webhooks,
) -> None:
    body = feed(2000)
    edge, queue = webhooks.edge("youtube")
    first = asyncio.run(edge.handle(webhooks.signed("youtube", body), "corr-1"))
    created = [task.task_id for task in queue.created]
    again = asyncio.run(edge.handle(webhooks.signed("youtube", body), "corr-2-longer-one"))
    assert first.status == again.status == 200
    assert [task.task_id for task in queue.refused_duplicates] == created
    assert len(queue.created) == len(created)


def test_a_feed_over_a_batch_but_small_keeps_its_order_across_parts(
    webhooks: Webhooks,
) -> None:
    entries = MAX_BATCH_EVENTS * 2 + 1
    _, queue, _ = webhooks.deliver("youtube", webhooks.signed("youtube", feed(entries)))
    assert len(queue.created) == 3
    order = [event.video_id for event in (t.event for t in queue.inbound_tasks())]
    assert order == [f"vid{n:08d}" for n in range(entries)]
