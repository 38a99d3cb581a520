"""The comment reply through the real HTTP sender (retries, breaker), against a fake
LinkedIn session that answers as the Comments API documents."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from atende.adapters.http_sender import HttpProviderSender, RetryPolicy, make_breaker
from atende.channels.linkedin.client import LinkedInCommentsApi
from atende.channels.linkedin.outbound import TARGET_URN
from atende.domain.messages import TextMessage
from atende.domain.outbox import OutboxRecord
from atende.errors import ProviderPermanentError

NOW = datetime(2026, 11, 25, tzinfo=UTC)
ORG = "urn:li:organization:2414183"
COMMENT = "urn:li:comment:(urn:li:activity:7094637247890620418,7094977717598625792)"
CREATED = "urn:li:comment:(urn:li:activity:7094637247890620418,7265000000000000001)"


@dataclass
class Answer:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> bytes:
        return json.dumps(self.body).encode()


class FakeLinkedIn:
    """Stands in for requests.Session: records posts, answers from a script."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.posts: list[dict[str, Any]] = []

    def post(
        self, url: str, json: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> Answer:
        self.posts.append({"url": url, "json": json, "headers": headers})
        return self.answers.pop(0)


def record() -> OutboxRecord:
    return OutboxRecord(
        id="o1",
        tenant_id="acme",
        channel="linkedin",
        session_id="s1",
        account_id=ORG,
        recipient="urn:li:person:Dk968RHxiO",
        message=TextMessage(body="Sim, das 8h às 12h."),
        inbound_event_id="5603453321",
        reply_index=0,
        order_key="1",
        reply_context={TARGET_URN: COMMENT},
        created_at=NOW,
        updated_at=NOW,
        expire_at=NOW + timedelta(days=1),
    )


def sender(session: FakeLinkedIn) -> HttpProviderSender:
    return HttpProviderSender(
        LinkedInCommentsApi("https://api.linkedin.com", "202609", lambda: "li-token"),
        make_breaker("linkedin", 5, 30.0),
        2.0,
        RetryPolicy(max_tries=3, initial_wait=0.001, max_wait=0.002),
        session=session,  # type: ignore[arg-type]
    )


def created() -> Answer:
    # 201 Created: the id in the x-restli-id header, the comment in the body.
    return Answer(
        201,
        {"actor": ORG, "commentUrn": CREATED, "id": "7265000000000000001"},
        {"x-restli-id": "7265000000000000001"},
    )


def test_a_reply_is_posted_once_and_the_new_comment_urn_recorded() -> None:
    session = FakeLinkedIn(created())
    result = sender(session).send(record())
    assert result.provider_message_id == CREATED and result.attempts == 1
    [sent] = session.posts
    assert sent["url"].startswith("https://api.linkedin.com/rest/socialActions/urn%3Ali%3Acomment")
    assert sent["json"]["parentComment"] == COMMENT
    assert sent["headers"]["Authorization"] == "Bearer li-token"


def test_throttling_is_retried_then_succeeds() -> None:
    throttled = Answer(429, {"message": "Comment create throttled", "status": 429})
    session = FakeLinkedIn(throttled, created())
    result = sender(session).send(record())
    assert result.attempts == 2 and result.failures == ("http_429",)


def test_a_lost_admin_role_is_permanent_and_not_retried() -> None:
    forbidden = Answer(
        403, {"message": "Not enough permissions", "serviceErrorCode": 100, "status": 403}
    )
    session = FakeLinkedIn(forbidden)
    with pytest.raises(ProviderPermanentError) as caught:
        sender(session).send(record())
    assert caught.value.code == "linkedin_403_100" and len(session.posts) == 1
