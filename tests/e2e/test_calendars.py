"""Calendar changes reach the contact: an appointment created, changed and cancelled in a
real CalDAV server (Radicale, standing in for iCloud) is announced to the contact on the
WhatsApp conversation they already have with us, once per change."""

from datetime import UTC, datetime, timedelta

from atende.channels.apple_calendar.client import Credentials
from atende.channels.apple_calendar.sample import call_poll_job, delete_event, event_ics, put_event

CONTACT = "5511999990000"


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
