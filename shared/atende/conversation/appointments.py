"""The notice a calendar change sends the contact it is for, on their own channel."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from atende.conversation.builder import TurnBuilder
from atende.conversation.step import Turn, TurnContext
from atende.domain.audit import AuditKind
from atende.domain.events import (
    CalendarEvent,
    CalendarEventCancelled,
    CalendarEventCreated,
)
from atende.domain.session import Session
from atende.fsm.guards import Actor

_DEFAULT_ZONE = "America/Sao_Paulo"


def _change(event: CalendarEvent) -> str:
    if isinstance(event, CalendarEventCreated):
        return "created"
    return "cancelled" if isinstance(event, CalendarEventCancelled) else "updated"


def _local(moment: datetime | None, zone: str) -> tuple[str, str]:
    if moment is None:
        return "", ""
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%d/%m/%Y"), local.strftime("%H:%M")


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def appointment_notice(session: Session, event: CalendarEvent, ctx: TurnContext) -> Turn:
    """One text in the tenant's words (nothing when the tenant left that text empty); the
    conversation's state does not change."""
    turn = TurnBuilder(session, ctx, actor=Actor.SYSTEM)
    change = _change(event)
    template = getattr(ctx.tenant.messages, f"appointment_{change}").strip()
    hours = ctx.tenant.business_hours
    date, time = _local(event.starts_at, hours.timezone if hours else _DEFAULT_ZONE)
    fields = _Blank(
        summary=event.summary or "", date=date, time=time, location=event.location or ""
    )
    turn.note(AuditKind.APPOINTMENT, change=change, calendar=event.channel,
              notice=bool(template))  # fmt: skip
    if template:
        turn.say(template.format_map(fields))
    return turn.turn()
