"""Odd TikTok payloads never crash and never vanish: each becomes an UnsupportedEvent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atende.channels.tiktok.parse import parse_delivery
from atende.domain.events import UnsupportedEvent


def event(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "client_key": "bwo2m45353a6k85",
        "event": "post.publish.complete",
        "create_time": 1731931200,
        "user_openid": "act.example12345Example12345Example",
        "content": json.dumps(
            {"publish_id": "v_pub_file~v2-1.1", "publish_type": "DIRECT_PUBLISH"}
        ),
    }
    document.update(changes)
    return {key: value for key, value in document.items() if value is not None}


@pytest.mark.parametrize(
    ("document", "account"),
    [
        pytest.param(event(client_key=None), "", id="no-client-key"),
        pytest.param(event(client_key=7), "", id="client-key-not-a-string"),
        pytest.param(event(event=None), "bwo2m45353a6k85", id="no-event"),
        pytest.param(event(create_time=None), "bwo2m45353a6k85", id="no-create-time"),
        pytest.param(event(create_time="1731931200"), "bwo2m45353a6k85", id="time-as-string"),
        pytest.param(event(create_time=-1), "bwo2m45353a6k85", id="negative-time"),
        pytest.param(event(create_time=10**13), "bwo2m45353a6k85", id="time-out-of-range"),
        pytest.param(event(content="not json"), "bwo2m45353a6k85", id="content-not-json"),
        pytest.param(event(content='["a"]'), "bwo2m45353a6k85", id="content-not-an-object"),
        pytest.param(event(content={"publish_id": "x"}), "bwo2m45353a6k85", id="content-object"),
        pytest.param(event(content="{}"), "bwo2m45353a6k85", id="no-publish-id"),
        pytest.param(
            event(event="comment.update", content='{"comment_action": "insert"}'),
            "bwo2m45353a6k85",
            id="comment-without-id",
        ),
    ],
)
def test_a_malformed_event_is_kept_as_unsupported(document: dict[str, Any], account: str) -> None:
    [parsed] = parse_delivery(json.dumps(document).encode())
    assert isinstance(parsed, UnsupportedEvent)
    assert parsed.reason == "malformed_item"
    assert parsed.account_id == account
    assert parsed.raw == document


def test_a_malformed_event_has_a_stable_id() -> None:
    body = json.dumps(event(create_time=None)).encode()
    assert parse_delivery(body)[0].event_id == parse_delivery(body)[0].event_id


def test_a_comment_action_that_is_not_a_string_is_named() -> None:
    content = json.dumps({"comment_id": 1, "video_id": 2, "comment_action": None})
    [parsed] = parse_delivery(json.dumps(event(event="comment.update", content=content)).encode())
    assert isinstance(parsed, UnsupportedEvent)
    assert parsed.reason == "unsupported_comment_action:None"
