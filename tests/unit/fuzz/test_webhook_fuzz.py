"""Property: every webhook survives any correctly signed body.

Through each channel's real connector (built by its wiring) and the real WebhookEdge, with a
queue that refuses what Cloud Tasks refuses: whatever a signed body holds — random JSON,
mutations of the fixtures under tests/data/<channel>/, lone surrogates, deep nesting, huge
numbers, wrong types, random XML for YouTube, random notice headers for Google Calendar —
the answer is 2xx or 4xx, never an exception or a 5xx; every event the parser kept is in a
created task; and every task body is valid UTF-8, within a task's size, that processing
accepts. Derandomized, without an example database, and bounded, so `make test` stays
repeatable and fast.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webhook_support import JSON_CHANNELS, Webhooks, build_webhooks, fixtures

from atende.channels.youtube import sample as youtube_sample
from atende.channels.youtube.topics import topic_url
from atende.json_text import replace_surrogates
from atende.webhook.edge import EdgeRequest
from atende.webhook.task_bodies import MAX_TASK_BODY_BYTES

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SURROGATES = st.sampled_from(["\ud83d", "\udc00", "\ud800", "\udbff", "\udfff", "\ud83d\ude00"])
TEXTS = st.lists(st.one_of(st.text(max_size=8), SURROGATES), max_size=4).map("".join)
#: A placeholder the encoder swaps for raw JSON text json.dumps cannot produce.
_RAW = "@@raw:{}@@"
RAW_TOKENS = st.one_of(
    st.integers(1, 1500).map(lambda n: "[" * n + "]" * n),  # deep nesting
    st.integers(1, 1500).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(1, 6000).map(lambda n: "9" * n),  # past int's 4,300 digits, too
    st.sampled_from(["1e999", "-1e999", "NaN", "Infinity", "-0", "1e-999", "123456789.0e300"]),
).map(_RAW.format)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),
    TEXTS,
    RAW_TOKENS,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXTS, inner, max_size=4)),
    max_leaves=24,
)


def encode(document: Any, ascii_only: bool) -> bytes:
    """JSON bytes: escaped (`\\ud83d`) or, when not `ascii_only`, a surrogate's own bytes."""
    text = json.dumps(document, ensure_ascii=ascii_only)
    for token in set(_tokens(text)):
        text = text.replace(json.dumps(_RAW.format(token)), token)
    return text.encode("utf-8", "surrogatepass")


def _tokens(text: str) -> list[str]:
    parts = text.split('"@@raw:')[1:]
    return [part.split('@@"', 1)[0] for part in parts]


def _slots(document: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a decoded document, the root's holder first."""
    holder = [document]
    slots: list[tuple[Any, Any]] = [(holder, 0)]
    stack = [document]
    while stack:
        value = stack.pop()
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in list(pairs):
            slots.append((value, key))
            if isinstance(item, dict | list):
                stack.append(item)
    return slots


@st.composite
def mutated_fixtures(draw: st.DrawFn, channel: str) -> bytes:
    """A fixture of the channel with a few of its values replaced, deleted, or spiked with
    lone surrogates (keys too), re-encoded."""
    holder = [json.loads(draw(st.sampled_from(fixtures(channel))))]
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(holder[0])
        container, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["replace", "replace", "delete", "surrogate", "rekey"]))
        if action == "replace" or container is holder:
            container[key] = draw(JSON_VALUES)
        elif action == "delete":
            del container[key]
        elif action == "surrogate":
            value = container[key]
            spike = draw(SURROGATES)
            container[key] = (value + spike) if isinstance(value, str) else spike
        elif isinstance(container, dict):
            container[str(key) + draw(SURROGATES)] = container.pop(key)
    return encode(holder[0], draw(st.booleans()))


def random_json_bodies() -> st.SearchStrategy[bytes]:
    return st.builds(encode, JSON_VALUES, st.booleans())


def json_bodies(channel: str) -> st.SearchStrategy[bytes]:
    return st.one_of(
        mutated_fixtures(channel),
        mutated_fixtures(channel),
        random_json_bodies(),
        st.binary(max_size=64),
    )


@pytest.fixture(scope="module")
def webhooks() -> Webhooks:
    return build_webhooks()


def assert_survives(webhooks: Webhooks, channel: str, request: EdgeRequest) -> None:
    response, queue, kept = webhooks.deliver(channel, request)
    assert 200 <= response.status < 500, (response.status, response.body)
    tasks = queue.inbound_tasks()  # every body: strict UTF-8 that processing accepts
    assert all(len(r.body) <= MAX_TASK_BODY_BYTES for r in queue.created)
    enqueued = {(t.event.channel, t.event.event_id) for t in tasks}
    missing = [e for e in kept if (e.channel, replace_surrogates(e.event_id)) not in enqueued]
    assert not missing, f"{len(missing)} accepted events were not enqueued"


@pytest.mark.parametrize("channel", JSON_CHANNELS)
def test_a_json_webhook_answers_any_signed_body_without_5xx_and_drops_nothing(
    webhooks: Webhooks, channel: str
) -> None:
    @FUZZ
    @given(body=json_bodies(channel))
    def run(body: bytes) -> None:
        assert_survives(webhooks, channel, webhooks.signed(channel, body))

    run()


# -- YouTube: Atom XML --------------------------------------------------------------------

XML_TEXT = st.text(max_size=12)  # may hold characters XML cannot: the parser refuses them
VIDEO_IDS = st.one_of(st.from_regex(r"[A-Za-z0-9_-]{11}", fullmatch=True), XML_TEXT)
CHANNEL_IDS = st.one_of(st.just(youtube_sample.DEV_CHANNEL_ID), XML_TEXT)
TIMESTAMPS = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    st.just("2026-12-03T10:00:00.123456789+00:00"),
    XML_TEXT,
)


@st.composite
def atom_entries(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["entry", "entry", "tombstone", "unknown", "deep", "charref"]))
    if kind == "tombstone":
        ref = quoteattr(f"yt:video:{draw(VIDEO_IDS)}")
        return f"<at:deleted-entry ref={ref} when={quoteattr(draw(TIMESTAMPS))}/>"
    if kind == "unknown":
        name = draw(st.sampled_from(["foo", "link", "entry"]))
        return f"<x:{name} xmlns:x='urn:x'>{escape(draw(XML_TEXT))}</x:{name}>"
    if kind == "deep":
        depth = draw(st.integers(1, 80))
        return "<entry>" + "<a>" * depth + "</a>" * depth + "</entry>"
    if kind == "charref":
        code = draw(st.sampled_from(["D83D", "DC00", "0", "1F600"]))  # XML refuses 3 of them
        return f"<entry><title>&#x{code};</title></entry>"
    return (
        "<entry>"
        f"<yt:videoId>{escape(draw(VIDEO_IDS))}</yt:videoId>"
        f"<yt:channelId>{escape(draw(CHANNEL_IDS))}</yt:channelId>"
        f"<title>{escape(draw(XML_TEXT))}</title>"
        f"<published>{escape(draw(TIMESTAMPS))}</published>"
        f"<updated>{escape(draw(TIMESTAMPS))}</updated>"
        "</entry>"
    )


@st.composite
def atom_feeds(draw: st.DrawFn) -> bytes:
    entries = "".join(draw(st.lists(atom_entries(), max_size=12)))
    prologue = draw(
        st.sampled_from(
            ["", "<?xml version='1.0' encoding='UTF-8'?>", "<!DOCTYPE feed [<!ENTITY x 'y'>]>"]
        )
    )
    feed = (
        f"{prologue}<feed xmlns='http://www.w3.org/2005/Atom'"
        " xmlns:yt='http://www.youtube.com/xml/schemas/2015'"
        " xmlns:at='http://purl.org/atompub/tombstones/1.0'>"
        f"<link rel='self' href={quoteattr(topic_url(youtube_sample.DEV_CHANNEL_ID))}/>"
        f"{entries}</feed>"
    )
    return feed.encode("utf-8", "surrogatepass")


def test_the_youtube_webhook_answers_any_signed_body_without_5xx_and_drops_nothing(
    webhooks: Webhooks,
) -> None:
    @FUZZ
    @given(body=st.one_of(atom_feeds(), atom_feeds(), random_json_bodies(), st.binary(max_size=64)))
    def run(body: bytes) -> None:
        assert_survives(webhooks, "youtube", webhooks.signed("youtube", body))

    run()


# -- Google Calendar: a notice is its headers ------------------------------------------


def test_the_google_calendar_webhook_answers_any_signed_notice_without_5xx(
    webhooks: Webhooks,
) -> None:
    header_values = st.text(st.characters(codec="latin-1"), max_size=40)  # as HTTP gives them

    @FUZZ
    @given(
        state=st.one_of(st.sampled_from(["sync", "exists", "not_exists"]), header_values),
        number=st.integers(0, 2**70),
        generation=st.integers(0, 10**19 - 1),  # a channel id's generation: up to 19 digits
        overrides=st.dictionaries(
            st.sampled_from(
                [
                    "X-Goog-Resource-ID",
                    "X-Goog-Resource-URI",
                    "X-Goog-Channel-Expiration",
                    "X-Goog-Message-Number",
                    "X-Goog-Resource-State",
                ]
            ),
            header_values,
        ),
        body=st.one_of(st.just(b""), st.binary(max_size=64), random_json_bodies()),
    )
    def run(
        state: str, number: int, generation: int, overrides: dict[str, str], body: bytes
    ) -> None:
        signed = webhooks.signed(
            "google_calendar", body, state=state, message_number=number, generation=generation
        )
        headers = {**signed.headers, **overrides}
        request = EdgeRequest(method="POST", headers=headers, body=body)
        assert_survives(webhooks, "google_calendar", request)

    run()
