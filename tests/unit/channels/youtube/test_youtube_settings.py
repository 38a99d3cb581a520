"""YouTube settings, topic URLs and the subscription request we send the hub."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from pydantic import ValidationError

from atende.channels.youtube.hub import (
    WebSubHub,
    check_callback_url,
    check_hub_url,
    subscription_form,
)
from atende.channels.youtube.settings import DEFAULT_HUB_URL, YouTubeSettings
from atende.channels.youtube.topics import channel_of_page, channel_of_topic, topic_url
from atende.errors import ConfigurationError, ProviderPermanentError, ProviderTransientError

CHANNEL = "UCdv3AtendeDevChannel01A"


def settings() -> YouTubeSettings:
    """From the environment only, never a developer's .env file."""
    return YouTubeSettings(_env_file=None)


def test_defaults_point_to_googles_hub_with_a_five_day_lease(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("TOPICS", "HUB_URL", "CALLBACK_URL", "LEASE_SECONDS"):
        monkeypatch.delenv(f"ATENDE_YOUTUBE_{name}", raising=False)
    loaded = settings()
    assert loaded.hub_url == DEFAULT_HUB_URL == "https://pubsubhubbub.appspot.com/subscribe"
    assert loaded.lease_seconds == 432_000
    assert loaded.topics == {} and loaded.callback_url is None


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_YOUTUBE_TOPICS", f'{{"{CHANNEL}": "demo"}}')
    monkeypatch.setenv("ATENDE_YOUTUBE_HUB_URL", "http://127.0.0.1:8089/youtube/subscribe")
    monkeypatch.setenv("ATENDE_YOUTUBE_CALLBACK_URL", "https://fn.example/youtube_webhook")
    monkeypatch.setenv("ATENDE_YOUTUBE_LEASE_SECONDS", "86400")
    loaded = settings()
    assert loaded.topics == {CHANNEL: "demo"}
    assert loaded.hub_url == "http://127.0.0.1:8089/youtube/subscribe"
    assert loaded.callback_url == "https://fn.example/youtube_webhook"
    assert loaded.lease_seconds == 86_400


@pytest.mark.parametrize("topics", ['{"UC with space": "demo"}', '{"": "demo"}'])
def test_a_topic_key_that_is_not_a_channel_id_is_refused(
    monkeypatch: pytest.MonkeyPatch, topics: str
) -> None:
    monkeypatch.setenv("ATENDE_YOUTUBE_TOPICS", topics)
    with pytest.raises(ValidationError):
        settings()


def test_a_non_positive_lease_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_YOUTUBE_LEASE_SECONDS", "0")
    with pytest.raises(ValidationError):
        settings()


def test_the_topic_is_youtubes_documented_feed_url_and_reads_back() -> None:
    url = topic_url(CHANNEL)
    assert url == f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={CHANNEL}"
    assert channel_of_topic(url) == CHANNEL
    with pytest.raises(ValueError):
        topic_url("UC&x=1")


def test_a_channel_page_url_names_its_channel() -> None:
    assert channel_of_page(f"https://www.youtube.com/channel/{CHANNEL}") == CHANNEL
    assert channel_of_page(f"http://www.youtube.com/channel/{CHANNEL}") == CHANNEL
    assert channel_of_page("https://www.youtube.com/@atende") is None
    assert channel_of_page(None) is None


# -- the subscription request ---------------------------------------------------------------


def test_the_form_has_exactly_websubs_fields() -> None:
    form = subscription_form(
        topic=topic_url(CHANNEL),
        callback="https://fn.example/youtube_webhook",
        lease_seconds=432_000,
        secret="s3cret",
    )
    assert form == {
        "hub.mode": "subscribe",
        "hub.topic": topic_url(CHANNEL),
        "hub.callback": "https://fn.example/youtube_webhook",
        "hub.lease_seconds": "432000",
        "hub.secret": "s3cret",
    }


@pytest.mark.parametrize("secret", ["", "x" * 200, "é" * 100])
def test_a_secret_websub_would_refuse_is_a_configuration_error(secret: str) -> None:
    with pytest.raises(ConfigurationError):
        subscription_form(topic="t", callback="c", lease_seconds=1, secret=secret)


@pytest.mark.parametrize("lease", [0, -1])
def test_a_non_positive_lease_is_never_requested(lease: int) -> None:
    with pytest.raises(ConfigurationError):
        subscription_form(topic="t", callback="c", lease_seconds=lease, secret="s")


def test_a_199_byte_secret_is_fine() -> None:
    form = subscription_form(topic="t", callback="c", lease_seconds=1, secret="x" * 199)
    assert len(form["hub.secret"]) == 199


@pytest.mark.parametrize(
    "url",
    [
        "https://pubsubhubbub.appspot.com/subscribe",
        "http://127.0.0.1:8089/youtube/subscribe",
        "http://localhost:8089/youtube/subscribe",
        "http://[::1]:8089/youtube/subscribe",
    ],
)
def test_the_secret_goes_over_https_or_loopback(url: str) -> None:
    check_hub_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://pubsubhubbub.appspot.com/subscribe",
        "http://10.0.0.7/subscribe",
        "ftp://127.0.0.1/subscribe",
        "https:///subscribe",
        "http://[::1/subscribe",
    ],
)
def test_the_secret_never_goes_in_clear_over_the_network(url: str) -> None:
    with pytest.raises(ConfigurationError):
        check_hub_url(url)


@pytest.mark.parametrize(
    "url", [None, "", "youtube_webhook", "mailto:x@example.com", "http://[::1/x", "https://a/#f"]
)
def test_the_callback_must_be_an_absolute_url(url: str | None) -> None:
    with pytest.raises(ConfigurationError):
        check_callback_url(url)


class _Answer:
    def __init__(self, status: int) -> None:
        self.status_code = status

    def close(self) -> None:
        pass


class _Session(requests.Session):
    def __init__(self, status: int | None = None, error: Exception | None = None) -> None:
        super().__init__()
        self.status = status
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def post(self, url: str | bytes, data: Any = None, json: Any = None, **kwargs: Any) -> Any:
        self.calls.append({"url": url, "data": data, **kwargs})
        if self.error is not None:
            raise self.error
        return _Answer(self.status or 202)


@pytest.mark.parametrize("status", [202, 204])
def test_an_accepting_hub_raises_nothing(status: int) -> None:
    session = _Session(status)
    WebSubHub("https://hub.example/subscribe", 3.0, session).request({"hub.mode": "subscribe"})
    [call] = session.calls
    assert call["timeout"] == 3.0 and call["allow_redirects"] is False
    assert call["data"] == {"hub.mode": "subscribe"}


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, ProviderTransientError),
        (503, ProviderTransientError),
        (429, ProviderTransientError),
        (408, ProviderTransientError),
        (400, ProviderPermanentError),
        (404, ProviderPermanentError),
        (307, ProviderPermanentError),
    ],
)
def test_a_refusing_hub_is_classified_by_status(status: int, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        WebSubHub("https://hub.example/subscribe", 3.0, _Session(status)).request({})
    assert getattr(caught.value, "code", None) == f"hub_http_{status}"


@pytest.mark.parametrize(
    ("failure", "code"),
    [(requests.ConnectTimeout(), "hub_timeout"), (requests.ConnectionError(), "hub_unreachable")],
)
def test_an_unreachable_hub_is_transient(failure: Exception, code: str) -> None:
    with pytest.raises(ProviderTransientError) as caught:
        WebSubHub("https://hub.example/subscribe", 3.0, _Session(error=failure)).request({})
    assert caught.value.code == code


def test_a_hub_url_over_plain_http_is_refused_before_sending() -> None:
    session = _Session(202)
    with pytest.raises(ConfigurationError):
        WebSubHub("http://hub.example/subscribe", 3.0, session).request({"hub.secret": "s"})
    assert session.calls == []
