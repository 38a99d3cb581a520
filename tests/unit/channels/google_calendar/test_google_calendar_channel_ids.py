"""Our channel ids: within Google's limits, recognisable, bound to tenant and calendar."""

from __future__ import annotations

import re

import pytest
from gcal_support import CALENDAR, CALENDARS, TENANT

from atende.channels.google_calendar.channel_ids import (
    MAX_CHANNEL_ID,
    CalendarIndex,
    WatchedCalendar,
    channel_id,
    channel_prefix,
    channel_token,
)


def test_a_channel_id_names_the_tenant_and_hides_the_calendar() -> None:
    made = channel_id(TENANT, CALENDAR, 1_764_082_800)
    assert made.startswith(f"atende-{TENANT}-") and made.endswith("-1764082800")
    assert "agenda" not in made and "@" not in made
    assert made.startswith(channel_prefix(TENANT, CALENDAR))


def test_the_longest_channel_id_fits_googles_64_characters() -> None:
    made = channel_id("t" * 200, CALENDAR, 10**19 - 1)
    assert len(made) == MAX_CHANNEL_ID


def test_unsafe_tenant_characters_are_replaced_in_the_label() -> None:
    made = channel_id("loja çentral/2", CALENDAR, 1)
    assert re.fullmatch(r"atende-loja__entral_2-[0-9a-f]{16}-1", made)
    index = CalendarIndex({CALENDAR: "loja çentral/2"})
    assert index.resolve(made) == WatchedCalendar(CALENDAR, "loja çentral/2")


def test_each_renewal_gets_a_new_id() -> None:
    assert channel_id(TENANT, CALENDAR, 1) != channel_id(TENANT, CALENDAR, 2)


def test_a_generation_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="generation"):
        channel_id(TENANT, CALENDAR, -1)


def test_the_index_finds_the_configured_calendar_of_a_channel() -> None:
    index = CalendarIndex(CALENDARS)
    assert index.resolve(channel_id(TENANT, CALENDAR, 5)) == WatchedCalendar(CALENDAR, TENANT)
    assert index.resolve(channel_id(TENANT, "nao@configurada.example", 5)) is None
    assert index.resolve("01234567-89ab-cdef-0123456789ab") is None


def test_the_token_is_the_hmac_of_the_channel_id() -> None:
    first = channel_token("s", "atende-a-0000000000000000-1")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert first != channel_token("s", "atende-a-0000000000000000-2")
    assert first != channel_token("t", "atende-a-0000000000000000-1")
