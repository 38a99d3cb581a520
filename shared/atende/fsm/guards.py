"""What a guard may read: facts about the moment of a transition, decided before it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Actor(StrEnum):
    """Who asks for a transition: some are reserved to one of them."""

    CONTACT = "contact"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True)
class GuardContext:
    actor: Actor = Actor.CONTACT
    within_business_hours: bool = True
    #: The tenant takes handoff requests outside business hours (queued for the morning).
    handoff_off_hours: bool = True
    required_fields_collected: bool = True
    abusive: bool = False
    handoff_requested: bool = False


Guard = Callable[[GuardContext], bool]


def always(_: GuardContext) -> bool:
    return True


def not_abusive(ctx: GuardContext) -> bool:
    return not ctx.abusive


def fields_collected(ctx: GuardContext) -> bool:
    return ctx.required_fields_collected and not ctx.abusive


def handoff_allowed(ctx: GuardContext) -> bool:
    """Someone asked for a person, and the tenant takes the request at this hour."""
    return ctx.handoff_requested and (ctx.within_business_hours or ctx.handoff_off_hours)


def by_agent(ctx: GuardContext) -> bool:
    return ctx.actor == Actor.AGENT


def by_system(ctx: GuardContext) -> bool:
    return ctx.actor == Actor.SYSTEM
