"""Calendar changes reach the contact: an appointment created, changed and cancelled in a
real CalDAV server (Radicale, standing in for iCloud) is announced to the contact on the
WhatsApp conversation they already have with us, once per change."""

from datetime import UTC, datetime, timedelta

import requests

from atende.channels.apple_calendar.client import Credentials
from atende.channels.apple_calendar.sample import call_poll_job, delete_event, event_ics, put_event
from atende.channels.google_calendar.api import CalendarApi
from atende.channels.google_calendar.sample import deliver, notice_headers
from atende.channels.google_calendar.writer import CalendarWriter

CONTACT = "5511999990000"


class StackSecrets:
    def __init__(self, env):
        self.env = env

    def get(self, name):
        return self.env.get(name)


def test_an_apple_calendar_appointment_is_announced_changed_and_cancelled_once(whatsapp):
    stack = whatsapp.stack
    whatsapp.say(CONTACT, "Oi")
    whatsapp.wait_replies(2, settle=0.5)
    calendar = stack.radicale.calendar_url
    credentials = Credentials(stack.radicale.username, stack.radicale.password)
    starts = datetime(2031, 3, 10, 17, 0, tzinfo=UTC)  # 14:00 in São Paulo

    def poll():
        answer = call_poll_job(stack.functions_url, stack.config.task_secret)
        assert answer.status_code == 200, answer.text
        return answer.json()

    poll()  # the first poll syncs the (empty) calendar
    ics = event_ics("corte-1@loja", "Corte de cabelo", starts, contact_ref=f"whatsapp:{CONTACT}")
    put_event(calendar, "corte-1@loja", ics, credentials)
    assert poll()["changes"] == 1
    whatsapp.wait_replies(3, settle=0.5)
    assert poll()["changes"] == 0  # nothing new: nothing announced twice

    moved = event_ics(
        "corte-1@loja", "Corte de cabelo", starts + timedelta(hours=2),
        contact_ref=f"whatsapp:{CONTACT}",
    )  # fmt: skip
    put_event(calendar, "corte-1@loja", moved, credentials, create=False)
    poll()
    whatsapp.wait_replies(4, settle=0.5)
    delete_event(calendar, "corte-1@loja", credentials)
    poll()
    whatsapp.wait_replies(5, settle=2.0)

    assert whatsapp.replies_to(CONTACT)[2:] == [
        "Seu agendamento (Corte de cabelo) está confirmado para 10/03/2031 às 14:00.",
        "Seu agendamento (Corte de cabelo) mudou: agora é 10/03/2031 às 16:00.",
        "Seu agendamento (Corte de cabelo) de 10/03/2031 às 16:00 foi cancelado.",
    ]
    changes = sorted(
        (e["at"], e["detail"]["change"]) for e in whatsapp.audit() if e["kind"] == "appointment"
    )
    assert [change for _at, change in changes] == ["created", "updated", "cancelled"]
    assert whatsapp.session(CONTACT)["state"] == "triage"  # the conversation did not move


def test_a_google_calendar_booking_reaches_the_contact_through_push_and_sync(whatsapp):
    stack = whatsapp.stack
    whatsapp.say(CONTACT, "Oi")
    whatsapp.wait_replies(2, settle=0.5)
    secrets = StackSecrets(stack.client_env)

    watch = requests.post(
        stack.function_url("google_calendar_watch"),
        headers={"x-atende-task-token": stack.config.task_secret},
        timeout=30,
    )
    assert watch.status_code == 200, watch.text

    api = CalendarApi(f"{stack.google_calendar_url}/calendar/v3", timeout_seconds=30)
    starts = datetime(2031, 3, 11, 12, 0, tzinfo=UTC)  # 09:00 in São Paulo
    CalendarWriter(api).create(
        "agenda@loja.example",
        summary="Avaliação",
        start=starts,
        end=starts + timedelta(hours=1),
        contact_ref=f"whatsapp:{CONTACT}",
    )
    url = stack.function_url("google_calendar_webhook")
    sync = notice_headers(
        secrets, state="sync", calendar_id="agenda@loja.example", tenant_id="demo"
    )
    assert deliver(url, sync) == 200  # the first message of a channel: acknowledged only
    forged = {**sync, "X-Goog-Channel-Token": "0" * 64}
    assert deliver(url, forged) == 401
    changed = notice_headers(
        secrets, state="exists", calendar_id="agenda@loja.example", tenant_id="demo",
        message_number=2,
    )  # fmt: skip
    assert deliver(url, changed) == 200

    whatsapp.wait_replies(3, settle=2.0)
    assert whatsapp.replies_to(CONTACT)[-1] == (
        "Seu agendamento (Avaliação) está confirmado para 11/03/2031 às 09:00."
    )
