"""Comment replies: the documented Comments API request, limits checked before sending, the
new comment's id read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from atende.channels.linkedin.client import LinkedInCommentsApi
from atende.channels.linkedin.outbound import (
    MAX_COMMENT_TEXT,
    OBJECT_URN,
    TARGET_URN,
    reply_context_for,
    thread_of,
)
from atende.channels.linkedin.parse import parse_delivery
from atende.channels.linkedin.wiring import PLUGIN
from atende.domain.events import CommentReceived
from atende.domain.messages import Button, ButtonsMessage, MediaMessage, TextMessage
from atende.domain.outbox import OutboxRecord
from atende.errors import ConfigurationError, InvalidOutboundMessageError

DATA = Path(__file__).resolve().parents[3] / "data" / "linkedin"
NOW = datetime(2026, 11, 25, tzinfo=UTC)
ORG = "urn:li:organization:2414183"
ACTIVITY = "urn:li:activity:7094637247890620418"
COMMENT = f"urn:li:comment:({ACTIVITY},7094977717598625792)"
BASE = "https://api.linkedin.com"


def record(message: Any = None, reply_context: dict[str, str] | None = None) -> OutboxRecord:
    return OutboxRecord(
        id="o1",
        tenant_id="demo",
        channel="linkedin",
        session_id="s1",
        account_id=ORG,
        recipient="urn:li:person:Dk968RHxiO",
        message=message or TextMessage(body="Sim, das 8h às 12h."),
        inbound_event_id="5603453321",
        reply_index=0,
        order_key="1",
        reply_context={TARGET_URN: COMMENT} if reply_context is None else reply_context,
        created_at=NOW,
        updated_at=NOW,
        expire_at=NOW + timedelta(days=1),
    )


def api(token: str | None = "li-token") -> LinkedInCommentsApi:
    return LinkedInCommentsApi(BASE, "202609", lambda: token)


def comment_event() -> CommentReceived:
    body = (DATA / "notification_comment.json").read_bytes()
    [event] = parse_delivery(body)
    assert isinstance(event, CommentReceived)
    return event


def test_a_reply_to_a_comment_is_a_nested_comment_in_its_thread() -> None:
    call = api().prepare(record())
    assert call.url == (
        f"{BASE}/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A"
        "7094637247890620418%2C7094977717598625792%29/comments"
    )
    assert call.json == {
        "actor": ORG,
        "object": ACTIVITY,
        "message": {"text": "Sim, das 8h às 12h."},
        "parentComment": COMMENT,
    }


def test_the_request_carries_the_linkedin_headers_and_the_token() -> None:
    assert api().prepare(record()).headers == {
        "Authorization": "Bearer li-token",
        "LinkedIn-Version": "202609",
        "X-Restli-Protocol-Version": "2.0.0",
    }


def test_a_comment_on_a_post_has_no_parent() -> None:
    call = api().prepare(record(reply_context={TARGET_URN: ACTIVITY}))
    assert (
        call.url == f"{BASE}/rest/socialActions/urn%3Ali%3Aactivity%3A7094637247890620418/comments"
    )
    assert call.json == {
        "actor": ORG,
        "object": ACTIVITY,
        "message": {"text": "Sim, das 8h às 12h."},
    }


def test_the_reply_context_of_a_parsed_comment_answers_it_in_its_thread() -> None:
    context = reply_context_for(comment_event())
    assert context == {TARGET_URN: COMMENT, OBJECT_URN: ACTIVITY}
    assert api().prepare(record(reply_context=context)).json["parentComment"] == COMMENT


def test_an_explicit_post_urn_wins_over_the_comment_urn() -> None:
    context = {TARGET_URN: COMMENT, OBJECT_URN: "urn:li:ugcPost:1"}
    assert api().prepare(record(reply_context=context)).json["object"] == "urn:li:ugcPost:1"


@pytest.mark.parametrize(
    ("urn", "thread"),
    [
        (COMMENT, ACTIVITY),
        ("urn:li:comment:(activity:7094637247890620418,1)", ACTIVITY),
        (ACTIVITY, None),
        ("urn:li:comment:broken", None),
    ],
)
def test_the_thread_of_a_comment_urn(urn: str, thread: str | None) -> None:
    assert thread_of(urn) == thread


def test_the_text_limit_is_linkedins_comment_limit() -> None:
    assert PLUGIN.text_limit == MAX_COMMENT_TEXT == 1250
    longest = api().prepare(record(TextMessage(body="a" * 1250)))
    assert longest.json["message"]["text"] == "a" * 1250


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(TextMessage(body="a" * 1251), id="too-long"),
        pytest.param(TextMessage(body=""), id="empty"),
        pytest.param(
            MediaMessage(media_type="image", link="https://example.com/a.png"), id="media"
        ),
        pytest.param(
            ButtonsMessage(body="Escolha", buttons=(Button(id="a", title="A"),)), id="buttons"
        ),
    ],
)
def test_a_reply_linkedin_would_refuse_is_never_prepared(message: Any) -> None:
    with pytest.raises(InvalidOutboundMessageError):
        api().prepare(record(message))


@pytest.mark.parametrize(
    "context",
    [
        pytest.param({}, id="no-target"),
        pytest.param({TARGET_URN: ""}, id="empty-target"),
        pytest.param({TARGET_URN: "7094977717598625792"}, id="not-a-urn"),
        pytest.param({TARGET_URN: "urn:li:comment:broken"}, id="comment-without-thread"),
    ],
)
def test_a_reply_without_a_usable_target_is_refused(context: dict[str, str]) -> None:
    with pytest.raises(InvalidOutboundMessageError):
        api().prepare(record(reply_context=context))


def test_the_limit_error_names_lengths_not_the_text() -> None:
    with pytest.raises(InvalidOutboundMessageError) as caught:
        api().prepare(record(TextMessage(body="segredo " * 200)))
    assert "segredo" not in str(caught.value) and "1600" in str(caught.value)


def test_a_missing_access_token_fails_closed() -> None:
    with pytest.raises(ConfigurationError):
        api(token=None).prepare(record())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"commentUrn": COMMENT, "id": "7094977717598625999"}, COMMENT),
        ({"id": "7094977717598625999"}, "7094977717598625999"),
        ({"id": 7094977717598625999}, "7094977717598625999"),
        ({"$URN": COMMENT}, COMMENT),
        ({"id": "sandbox.1", "message_id": "sandbox.1"}, "sandbox.1"),
        ({}, None),
        ({"id": True}, None),
    ],
)
def test_the_created_comment_id_comes_from_the_body(
    body: dict[str, Any], expected: str | None
) -> None:
    assert api().message_id(json.dumps(body).encode()) == expected


@pytest.mark.parametrize("body", [b"", b"not json", b"[1]"])
def test_an_unreadable_answer_has_no_id(body: bytes) -> None:
    assert api().message_id(body) is None
