"""parse_delivery over TikTok's documented events: published posts, new comments, and
everything else kept as UnsupportedEvent, each with a stable id."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from atende.channels.tiktok.parse import event_id_for, parse_delivery
from atende.domain.events import CommentReceived, UnsupportedEvent, VideoPublished
from atende.errors import MalformedPayloadError

DATA = Path(__file__).resolve().parents[3] / "data" / "tiktok"
CLIENT_KEY = "bwo2m45353a6k85"
OPENID = "act.example12345Example12345Example"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return document


def body_of(document: object) -> bytes:
    return json.dumps(document).encode("utf-8")


def parse_one(document: dict[str, Any]) -> Any:
    [event] = parse_delivery(body_of(document))
    return event


@pytest.mark.parametrize(
    ("fixture", "video_id"),
    [
        ("video_publish_completed", "video.6974245311675353080.VDCxrcMJ"),
        ("post_publish_complete", "v_pub_file~v2-1.7358273648293847"),
        ("post_publish_publicly_available", "7438919275316317471"),
    ],
)
def test_published_content_is_a_video_published(fixture: str, video_id: str) -> None:
    document = load(fixture)
    event = parse_one(document)
    assert isinstance(event, VideoPublished)
    assert event.channel == "tiktok"
    assert event.video_id == video_id
    assert event.account_id == CLIENT_KEY
    assert event.contact_id == OPENID
    assert event.occurred_at == datetime.fromtimestamp(document["create_time"], tz=UTC)
    assert event.raw == document


def test_a_new_comment_is_a_comment_received_without_text_or_commenter() -> None:
    event = parse_one(load("comment_update_insert"))
    assert isinstance(event, CommentReceived)
    assert event.comment_id == "7385350567722402578"
    assert event.target_id == "7377694258502880513"
    assert event.parent_id is None
    # TikTok's event names neither the commenter nor the text.
    assert event.contact_id is None and event.text is None
    assert event.account_id == CLIENT_KEY


def test_a_reply_names_the_comment_it_answers() -> None:
    event = parse_one(load("comment_update_reply"))
    assert isinstance(event, CommentReceived)
    assert event.parent_id == "7385350567722402578"


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("authorization_removed", "unsupported_event:authorization.removed"),
        ("video_upload_failed", "unsupported_event:video.upload.failed"),
        ("portability_download_ready", "unsupported_event:portability.download.ready"),
        ("post_publish_failed", "unsupported_event:post.publish.failed"),
        ("post_publish_inbox_delivered", "unsupported_event:post.publish.inbox_delivered"),
        (
            "post_publish_no_longer_publicaly_available",
            "unsupported_event:post.publish.no_longer_publicaly_available",
        ),
        ("comment_update_delete", "unsupported_comment_action:delete"),
    ],
)
def test_other_events_are_kept_and_named(fixture: str, reason: str) -> None:
    document = load(fixture)
    event = parse_one(document)
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == reason
    assert event.account_id == CLIENT_KEY
    assert event.contact_id == document.get("user_openid")
    assert event.raw == document


def test_an_unknown_event_is_kept() -> None:
    document = load("authorization_removed") | {"event": "live.started", "content": "{}"}
    event = parse_one(document)
    assert isinstance(event, UnsupportedEvent) and event.reason == "unsupported_event:live.started"


def test_the_event_id_is_the_event_its_time_and_a_hash() -> None:
    document = load("authorization_removed")
    event = parse_one(document)
    name, create_time, digest = event.event_id.split(":")
    assert (name, create_time) == ("authorization.removed", "1615338610")
    assert len(digest) == 32 and OPENID not in event.event_id
    assert event.event_id == event_id_for(
        "authorization.removed", 1615338610, OPENID, document["content"]
    )


def test_a_redelivery_has_the_same_id_even_if_content_is_reserialized() -> None:
    document = load("post_publish_publicly_available")
    again = dict(document, content=json.dumps(json.loads(document["content"]), indent=4))
    assert parse_one(document).event_id == parse_one(again).event_id


@pytest.mark.parametrize(
    "change",
    [
        {"create_time": 1615338611},
        {"user_openid": "act.someone.else"},
        {"content": '{"reason": 2}'},
        {"event": "video.upload.failed"},
    ],
)
def test_different_events_have_different_ids(change: dict[str, Any]) -> None:
    document = load("authorization_removed")
    assert parse_one(document).event_id != parse_one(document | change).event_id


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[1, 2]", b'"text"', b"null"])
def test_a_body_that_is_not_a_json_object_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_delivery(body)
