"""Business hours in the tenant's own time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Interval(BaseModel):
    """Open from `start` (inclusive) to `end` (exclusive), local time; "24:00" is midnight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time

    @field_validator("end", mode="before")
    @classmethod
    def _midnight(cls, value: object) -> object:
        return time.max if value in ("24:00", "24:00:00") else value

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.end <= self.start:
            raise ValueError(f"interval ends ({self.end}) before it starts ({self.start})")
        return self

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end or (self.end == time.max and moment >= self.start)


class BusinessHours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "America/Sao_Paulo"
    #: Days missing from the map are closed all day.
    weekly: dict[Weekday, tuple[Interval, ...]] = Field(default_factory=dict)
    #: Closed all day on these local dates.
    holidays: tuple[date, ...] = ()
    #: Whether a request for a person outside hours is queued for when the team is back
    #: (True) or declined with the off-hours reply (False).
    queue_handoff_off_hours: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        day = WEEKDAYS[local.weekday()]
        return any(interval.contains(local.time()) for interval in self.weekly.get(day, ()))
