"""The follow-up call for an outbox record: interaction webhook, token expiry, answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from atende.channels.discord import wiring
from atende.channels.discord.client import DiscordFollowupApi
from atende.domain.messages import Button, ButtonsMessage, OutboundMessage, TextMessage
from atende.domain.outbox import OutboxRecord
from atende.errors import InvalidOutboundMessageError, ProviderPermanentError

BASE = "http://127.0.0.1:8089/discord/api/v10"
CREATED = datetime(2024, 10, 27, 14, 0, tzinfo=UTC)
EXPIRES = CREATED + timedelta(minutes=15)
CONTEXT = {
    "application_id": "290926444748734465",
    "token": "aW50ZXJhY3Rpb246MTMwMDExMjM0NTY3ODkwMTI0OTpkbQ",
    "expires_at": EXPIRES.isoformat(),
}


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def record(
    message: OutboundMessage | None = None, context: dict[str, str] | None = None
) -> OutboxRecord:
    return OutboxRecord(
        id="ob-1",
        tenant_id="demo",
        channel="discord",
        session_id="s" * 40,
        account_id="290926444748734465",
        recipient="53908232506183680",
        message=message or TextMessage(body="Seu boleto foi reenviado."),
        inbound_event_id="1300112345678901249",
        reply_index=0,
        order_key="000000000001",
        reply_context=CONTEXT if context is None else context,
        created_at=CREATED,
        updated_at=CREATED,
        expire_at=CREATED + timedelta(days=30),
    )


def api(now: datetime = CREATED + timedelta(minutes=1)) -> DiscordFollowupApi:
    return DiscordFollowupApi(BASE, FixedClock(now))


def test_a_reply_is_a_followup_on_the_interaction_webhook_without_auth() -> None:
    call = api().prepare(record())
    assert call.url == f"{BASE}/webhooks/290926444748734465/{CONTEXT['token']}"
    assert call.json == {"content": "Seu boleto foi reenviado.", "allowed_mentions": {"parse": []}}
    assert "Authorization" not in call.headers
    assert call.headers["User-Agent"].startswith("DiscordBot (")


def test_buttons_travel_in_the_followup() -> None:
    message = ButtonsMessage(body="Mais algo?", buttons=(Button(id="handoff", title="Pessoa"),))
    payload: dict[str, Any] = api().prepare(record(message)).json
    assert payload["components"][0]["components"][0]["custom_id"] == "handoff"


@pytest.mark.parametrize(
    "now",
    [EXPIRES, EXPIRES + timedelta(seconds=1), EXPIRES + timedelta(hours=2)],
    ids=["at-expiry", "just-after", "hours-later"],
)
def test_an_expired_interaction_is_refused_before_sending(now: datetime) -> None:
    with pytest.raises(InvalidOutboundMessageError) as caught:
        api(now).prepare(record())
    assert caught.value.code == "interaction_expired"


def test_a_reply_just_before_expiry_still_goes() -> None:
    api(EXPIRES - timedelta(seconds=1)).prepare(record())


@pytest.mark.parametrize(
    "context",
    [
        {},
        {**CONTEXT, "token": ""},
        {"application_id": CONTEXT["application_id"], "token": CONTEXT["token"]},
        {**CONTEXT, "expires_at": "soon"},
        {**CONTEXT, "expires_at": "2024-10-27T14:15:00"},
    ],
    ids=["none", "empty-token", "no-expiry", "garbled-expiry", "naive-expiry"],
)
def test_a_reply_without_a_usable_interaction_is_refused(context: dict[str, str]) -> None:
    with pytest.raises(InvalidOutboundMessageError) as caught:
        api().prepare(record(context=context))
    assert caught.value.code == "missing_reply_context"


def test_message_id_and_classification() -> None:
    client = api()
    assert client.message_id(b'{"id": "1300700000000000000", "content": "x"}') == (
        "1300700000000000000"
    )
    assert client.message_id(b"not json") is None
    assert client.message_id(b"[]") is None
    error = client.classify(404, b'{"message": "Unknown Webhook", "code": 10015}')
    assert isinstance(error, ProviderPermanentError)


def test_wiring_names_the_text_limit_and_builds_from_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from atende.adapters.env_secrets import EnvSecretSource
    from atende.channels.plugin import ChannelDeps
    from atende.config import Settings

    assert wiring.PLUGIN.text_limit == 2000
    monkeypatch.setenv("ATENDE_DISCORD_API_BASE_URL", BASE)
    monkeypatch.setenv("ATENDE_DISCORD_TENANTS", '{"290926444748734465": "demo"}')
    clock = FixedClock(CREATED + timedelta(minutes=1))

    def unused() -> Any:
        raise AssertionError("not needed")

    deps = ChannelDeps(
        settings=Settings(),
        secrets=EnvSecretSource(environ={}, dotenv_path=None),
        clock=clock,
        state=unused,
        tasks=unused,
    )
    assert wiring.PLUGIN.provider_api(deps).prepare(record()).url.startswith(BASE + "/webhooks/")
    connector = wiring.PLUGIN.connector(deps)
    assert connector.channel == "discord"
