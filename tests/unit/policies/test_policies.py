"""The deterministic policies that run before any answer: text matching, abuse, opt-out,
handoff requests, business hours and routing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from atende.domain.events import MediaRef, MessageKind, MessageReceived
from atende.domain.session import AbuseState, Session, new_session
from atende.policies.abuse import AbuseCheck, check_abuse
from atende.policies.decision import Policy, PolicyDecision
from atende.policies.handoff import HANDOFF_CHOICE, handoff_reason
from atende.policies.hours import within_business_hours
from atende.policies.opt_out import asks_to_opt_out
from atende.policies.routing import route_for
from atende.policies.text import contains_phrase, first_phrase, is_exactly, normalized_words
from atende.tenants.hours import BusinessHours, Interval
from atende.tenants.tenant_config import DEFAULT_CONFIG, AbusePolicy, RoutingRule, TenantConfig

# Wednesday, 25 November 2026, 12:00 UTC (09:00 in São Paulo).
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def message(
    text: str | None = "oi",
    *,
    at: datetime = NOW,
    message_id: str | None = None,
    kind: MessageKind = MessageKind.TEXT,
    choice_id: str | None = None,
    media: MediaRef | None = None,
) -> MessageReceived:
    message_id = message_id or f"wamid.{at.timestamp():.0f}.{text}"
    return MessageReceived(
        channel="whatsapp",
        event_id=message_id,
        account_id="106540352242922",
        contact_id="5511999990000",
        occurred_at=at,
        message_id=message_id,
        kind=kind,
        text=text,
        choice_id=choice_id,
        media=media,
    )


# -- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Não, OBRIGADO!", ("nao", "obrigado")),
        ("  ATENDENTE  ", ("atendente",)),
        ("Atenção... já?!", ("atencao", "ja")),
        ("coração-ção", ("coracao", "cao")),
        ("Ｓｔｏｐ", ("stop",)),  # full-width letters as some keyboards send them
        ("ÇÃÕÉ", ("caoe",)),
        ("boleto_2via", ("boleto_2via",)),
        ("!!! ...", ()),
        ("", ()),
        (None, ()),
    ],
)
def test_text_is_matched_without_case_accents_or_punctuation(
    text: str | None, words: tuple[str, ...]
) -> None:
    assert normalized_words(text) == words


@pytest.mark.parametrize(
    ("text", "phrase", "found"),
    [
        ("Quero falar com um ATENDIMENTO HUMANO agora", "atendimento humano", True),
        ("atendimento, humano!", "Atendimento Humano", True),
        ("humano atendimento", "atendimento humano", False),  # order matters
        ("atendimento muito humano", "atendimento humano", False),  # together
        ("pessoal, tudo bem?", "pessoa", False),  # whole words, not prefixes
        ("falar com pessoa", "pessoa", True),
        ("qualquer coisa", "!!!", False),  # a phrase with no words matches nothing
    ],
)
def test_a_phrase_matches_its_words_together_and_in_order(
    text: str, phrase: str, found: bool
) -> None:
    assert contains_phrase(normalized_words(text), phrase) is found


def test_the_first_matching_phrase_is_the_first_in_the_tenants_order() -> None:
    assert first_phrase("boleto e pix", ("pix", "boleto")) == "pix"
    assert first_phrase("boleto e pix", ("cartão", "boleto")) == "boleto"
    assert first_phrase("nada a ver", ("pix", "boleto")) is None
    assert first_phrase(None, ("pix",)) is None


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("Não, obrigado!", True),
        ("nao obrigado", True),
        ("não obrigado pela ajuda", False),
        ("", False),
        (None, False),
    ],
)
def test_is_exactly_compares_the_whole_message(text: str | None, exact: bool) -> None:
    assert is_exactly(text, ("não, obrigado",)) is exact


# -- abuse -------------------------------------------------------------------------------

POLICY = AbusePolicy(
    flood_limit=3, flood_window_seconds=60, repeat_limit=3, max_input_chars=50, cooldown_seconds=300
)


def session_with(*messages: MessageReceived, abuse: AbuseState | None = None) -> Session:
    """A session whose history holds `messages` (the one being checked last)."""
    session = new_session(
        session_id="s1",
        tenant_id="demo",
        channel="whatsapp",
        contact_id="5511999990000",
        account_id="106540352242922",
        now=NOW,
    )
    for item in messages:
        session = session.answered(item)
    return session.model_copy(update={"abuse": abuse or AbuseState()})


def run(messages: list[MessageReceived], policy: AbusePolicy = POLICY) -> list[AbuseCheck]:
    """Check each message in turn, as the engine does: the history grows, the state carries."""
    checks: list[AbuseCheck] = []
    state = AbuseState()
    for index, item in enumerate(messages):
        session = session_with(*messages[: index + 1], abuse=state)
        result = check_abuse(session, item, policy, item.occurred_at)
        checks.append(result)
        state = result.state
    return checks


def distinct(count: int, start: datetime = NOW, every: timedelta = timedelta(seconds=1)) -> list:
    return [message(f"mensagem {i}", at=start + i * every) for i in range(count)]


def test_a_flood_at_the_limit_is_answered() -> None:
    checks = run(distinct(POLICY.flood_limit))
    assert [c.decision for c in checks] == [None] * POLICY.flood_limit


def test_one_message_over_the_flood_limit_starts_a_cool_down_with_one_notice() -> None:
    checks = run(distinct(POLICY.flood_limit + 1))
    last = checks[-1]
    assert last.decision == PolicyDecision(Policy.ABUSE, "cooldown", "flood")
    assert last.notify is True
    assert last.state.cooldown_until == NOW + timedelta(seconds=POLICY.flood_limit + 300)
    assert last.state.reason == "flood"


@pytest.mark.parametrize(
    ("gap_seconds", "flood"),
    [
        (19, True),  # four messages within 57 s
        (20, False),  # the first is exactly 60 s before the fourth: outside the window
        (30, False),
    ],
)
def test_only_messages_inside_the_sliding_window_count(gap_seconds: int, flood: bool) -> None:
    checks = run(distinct(POLICY.flood_limit + 1, every=timedelta(seconds=gap_seconds)))
    assert (checks[-1].decision is not None) is flood


def test_only_the_contacts_own_messages_count_towards_a_flood() -> None:
    mine = distinct(POLICY.flood_limit)
    session = session_with(*mine)
    for index in range(5):
        session = session.said(f"out{index}", "resposta", "text", "bot", NOW)
    last = mine[-1]
    assert check_abuse(session, last, POLICY, NOW).decision is None


def test_messages_from_before_an_ended_cool_down_do_not_start_the_next_one() -> None:
    ended = NOW + timedelta(seconds=30)
    # Plenty of messages during the cool-down, all inside the window of the next one.
    during = distinct(10, start=NOW, every=timedelta(seconds=3))
    after = message("voltei", at=ended + timedelta(seconds=1))
    state = AbuseState(cooldown_until=ended, reason="flood")
    checked = check_abuse(
        session_with(*during, after, abuse=state), after, POLICY, after.occurred_at
    )
    assert checked.decision is None
    # The ended cool-down is remembered: the next window never reaches back before it.
    assert checked.state.cooldown_until == ended


def test_the_messages_ignored_during_a_cool_down_never_count_again() -> None:
    ended = NOW + timedelta(seconds=30)
    during = distinct(10, start=NOW, every=timedelta(seconds=3))
    first = message("voltei", at=ended + timedelta(seconds=1))
    second = message("queria saber do boleto", at=ended + timedelta(seconds=20))
    state = AbuseState(cooldown_until=ended, reason="flood")
    history = (*during, first)
    after_first = check_abuse(session_with(*history, abuse=state), first, POLICY, first.occurred_at)
    assert after_first.decision is None
    after_second = check_abuse(
        session_with(*history, second, abuse=after_first.state), second, POLICY, second.occurred_at
    )
    assert after_second.decision is None


@pytest.mark.parametrize(
    "texts",
    [
        ["Oi", "oi", "OI!"],
        ["Olá, tudo bem?", "ola tudo bem", "OLÁ... TUDO BEM"],
    ],
)
def test_the_same_text_again_and_again_is_abuse_whatever_its_case_or_accents(
    texts: list[str],
) -> None:
    items = [message(text, at=NOW + timedelta(minutes=i)) for i, text in enumerate(texts)]
    checks = run(items)
    assert [c.decision for c in checks[:-1]] == [None] * (len(texts) - 1)
    assert checks[-1].decision == PolicyDecision(Policy.ABUSE, "cooldown", "repeated_message")
    assert checks[-1].notify is True
    # The count restarts with the cool-down.
    assert checks[-1].state.repeats == 0


def test_a_different_text_in_between_restarts_the_repeat_count() -> None:
    texts = ["oi", "oi", "preço?", "oi", "oi"]
    items = [message(text, at=NOW + timedelta(minutes=i)) for i, text in enumerate(texts)]
    checks = run(items)
    assert [c.decision for c in checks] == [None] * len(texts)
    assert checks[-1].state.repeats == 2


def test_the_session_remembers_a_hash_of_the_text_never_the_text() -> None:
    [checked] = run([message("meu cpf é 123.456.789-09")])
    assert checked.state.last_text_hash is not None
    dumped = checked.state.model_dump_json()
    assert "cpf" not in dumped and "123.456" not in dumped


@pytest.mark.parametrize(("size", "abusive"), [(50, False), (51, True), (2000, True)])
def test_oversized_input_is_abuse(size: int, abusive: bool) -> None:
    [checked] = run([message("a" * size)])
    expected = PolicyDecision(Policy.ABUSE, "cooldown", "oversized_input") if abusive else None
    assert checked.decision == expected


def test_a_cool_down_ignores_the_contact_with_a_single_notice_and_then_ends() -> None:
    flood = distinct(POLICY.flood_limit + 1)
    started = run(flood)[-1]
    until = started.state.cooldown_until
    assert started.notify and until is not None
    state = started.state
    history = list(flood)
    notices = 1
    # Three more messages during the cool-down, well apart so they are no flood themselves.
    for minute in (1, 2, 4):
        item = message(f"alô {minute}", at=NOW + timedelta(minutes=minute))
        history.append(item)
        checked = check_abuse(session_with(*history, abuse=state), item, POLICY, item.occurred_at)
        assert checked.decision == PolicyDecision(Policy.ABUSE, "ignored", "cooling_down:flood")
        notices += checked.notify
        state = checked.state
    assert notices == 1
    # At the end of the cool-down the contact is answered again.
    later = message("ainda estão aí?", at=until)
    history.append(later)
    checked = check_abuse(session_with(*history, abuse=state), later, POLICY, until)
    assert checked.decision is None and checked.notify is False
    assert checked.state.cooldown_until == until  # over, and remembered for the window


def test_a_message_without_text_is_never_a_repeat() -> None:
    photo = dict(kind=MessageKind.IMAGE, text=None, media=MediaRef(id="m1"))
    items = [message(at=NOW + timedelta(minutes=i), message_id=f"p{i}", **photo) for i in range(5)]
    checks = run(items)
    assert [c.decision for c in checks] == [None] * 5
    assert checks[-1].state.repeats == 0


# -- opt-out -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "opts_out"),
    [
        ("STOP", True),
        ("Parar", True),
        ("sair.", True),
        ("  Cancelar   MENSAGENS! ", True),
        ("não quero parar", False),
        ("como faço para sair do plano?", False),
        ("stop stop", False),
        ("cancelar", False),
        ("", False),
        (None, False),
    ],
)
def test_opt_out_only_when_the_whole_message_is_a_keyword(text: str | None, opts_out: bool) -> None:
    assert asks_to_opt_out(message(text), DEFAULT_CONFIG) is opts_out


def test_opt_out_keywords_are_the_tenants() -> None:
    tenant = TenantConfig(opt_out_keywords=("descadastrar",))
    assert asks_to_opt_out(message("Descadastrar"), tenant)
    assert not asks_to_opt_out(message("stop"), tenant)


# -- handoff -----------------------------------------------------------------------------

PHRASE_TENANT = TenantConfig(handoff_keywords=("falar com gerente", "suporte"))


@pytest.mark.parametrize(
    ("tenant", "item", "reason"),
    [
        (DEFAULT_CONFIG, message("Quero falar com um ATENDENTE"), "handoff_keyword"),
        (DEFAULT_CONFIG, message("tem alguma pessoa aí?"), "handoff_keyword"),
        (DEFAULT_CONFIG, message("I need a human"), "handoff_keyword"),
        (PHRASE_TENANT, message("Posso FALAR com gerente?"), "handoff_keyword"),
        (PHRASE_TENANT, message("falar com o gerente"), None),  # not contiguous
        (PHRASE_TENANT, message("quero um atendente"), None),  # not this tenant's word
        (
            DEFAULT_CONFIG,
            message("Falar com alguém", kind=MessageKind.INTERACTIVE, choice_id=HANDOFF_CHOICE),
            "explicit_request",
        ),
        (
            PHRASE_TENANT,
            message(None, kind=MessageKind.BUTTON, choice_id="handoff"),
            "explicit_request",
        ),
        (DEFAULT_CONFIG, message("Ver planos", kind=MessageKind.INTERACTIVE, choice_id="plans"),
         None),
        (DEFAULT_CONFIG, message("pessoal, bom dia"), None),
        (DEFAULT_CONFIG, message("qual o horário?"), None),
        (DEFAULT_CONFIG, message(None, kind=MessageKind.AUDIO), None),
    ],
)  # fmt: skip
def test_a_person_is_asked_for_by_keyword_phrase_or_the_handoff_choice(
    tenant: TenantConfig, item: MessageReceived, reason: str | None
) -> None:
    assert handoff_reason(item, tenant) == reason


# -- business hours ----------------------------------------------------------------------

NINE_TO_SIX = (Interval(start="09:00", end="18:00"),)
WEEKDAYS_9_18 = BusinessHours(
    timezone="America/Sao_Paulo",
    weekly={day: NINE_TO_SIX for day in ("mon", "tue", "wed", "thu", "fri")},
    holidays=(date(2026, 12, 25),),
)


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        # Wednesday 20:00 UTC is 17:00 in São Paulo: open, though 20:00 is after hours.
        (utc(25, 20), True),
        # Wednesday 10:00 UTC is 07:00 in São Paulo: closed, though 10:00 is within hours.
        (utc(25, 10), False),
        (utc(25, 12), True),  # 09:00 local: the start is inclusive
        (utc(25, 20, 59), True),  # 17:59 local
        (utc(25, 21), False),  # 18:00 local: the end is exclusive
        # Friday 23:30 local is Saturday 02:30 UTC: a Friday, closed by the hour.
        (utc(28, 2, 30), False),
        (utc(28, 14), False),  # Saturday 11:00 local
        (utc(29, 14), False),  # Sunday
        (utc(30, 14), True),  # Monday
        (utc(25, 14, month=12), False),  # Christmas, a Friday
        (utc(24, 14, month=12), True),
    ],
)
def test_business_hours_are_in_the_tenants_time_zone(moment: datetime, is_open: bool) -> None:
    tenant = TenantConfig(business_hours=WEEKDAYS_9_18)
    assert within_business_hours(tenant, moment) is is_open


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        # 26 December 01:00 UTC is still 25 December (22:00) in São Paulo: the holiday.
        (utc(26, 1, month=12), False),
        # 25 December 02:00 UTC is still 24 December (23:00) in São Paulo: open.
        (utc(25, 2, month=12), True),
        (utc(26, 4, month=12), True),
    ],
)
def test_holidays_are_local_dates(moment: datetime, is_open: bool) -> None:
    all_day = (Interval(start="00:00", end="24:00"),)
    hours = BusinessHours(
        timezone="America/Sao_Paulo",
        weekly=dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), all_day),
        holidays=(date(2026, 12, 25),),
    )
    assert hours.is_open(moment) is is_open


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another() -> None:
    moment = utc(25, 20)  # Wednesday 20:00 UTC
    in_utc = WEEKDAYS_9_18.model_copy(update={"timezone": "UTC"})
    assert WEEKDAYS_9_18.is_open(moment) is True
    assert in_utc.is_open(moment) is False


@pytest.mark.parametrize(
    ("local_time", "is_open"),
    [("17:59", False), ("18:00", True), ("23:59:59", True), ("23:59:59.999999", True)],
)
def test_an_interval_ending_at_24_00_is_open_until_midnight(local_time: str, is_open: bool) -> None:
    hours = BusinessHours(timezone="UTC", weekly={"wed": (Interval(start="18:00", end="24:00"),)})
    moment = datetime.fromisoformat(f"2026-11-25T{local_time}+00:00")
    assert hours.is_open(moment) is is_open
    # ... and not a moment past it: Thursday is closed.
    assert hours.is_open(datetime(2026, 11, 26, 0, 0, tzinfo=UTC)) is False


def test_a_day_with_two_intervals_is_closed_between_them() -> None:
    hours = BusinessHours(
        timezone="UTC",
        weekly={
            "wed": (Interval(start="08:00", end="12:00"), Interval(start="13:00", end="17:00"))
        },
    )
    assert [hours.is_open(utc(25, hour, 30)) for hour in (11, 12, 13)] == [True, False, True]


@pytest.mark.parametrize("moment", [utc(25, 3), utc(28, 14), utc(25, 14, month=12)])
def test_a_tenant_without_business_hours_is_always_open(moment: datetime) -> None:
    assert within_business_hours(DEFAULT_CONFIG, moment) is True


def test_business_hours_with_no_days_are_always_closed() -> None:
    tenant = TenantConfig(business_hours=BusinessHours())
    assert not any(within_business_hours(tenant, utc(day, 15)) for day in range(23, 30))


# -- routing -----------------------------------------------------------------------------

ROUTED = TenantConfig(
    routing=(
        RoutingRule(keywords=("boleto", "segunda via"), queue="financeiro"),
        RoutingRule(keywords=("entrega", "rastreio"), queue="logistica"),
        RoutingRule(keywords=("boleto atrasado",), queue="cobranca"),
    ),
    default_queue="geral",
)


@pytest.mark.parametrize(
    ("text", "faq_queue", "expected"),
    [
        ("Preciso da SEGUNDA VIA", None, PolicyDecision(Policy.ROUTING, "financeiro", "rule_0")),
        ("cadê minha entrega?", "vendas", PolicyDecision(Policy.ROUTING, "logistica", "rule_1")),
        # The first matching rule wins, even if a later one is more specific.
        ("boleto atrasado", None, PolicyDecision(Policy.ROUTING, "financeiro", "rule_0")),
        ("quero um plano", "vendas", PolicyDecision(Policy.ROUTING, "vendas", "faq")),
        ("quero um plano", None, PolicyDecision(Policy.ROUTING, "geral", "default")),
        (None, None, PolicyDecision(Policy.ROUTING, "geral", "default")),
    ],
)
def test_routing_by_rule_then_faq_queue_then_default(
    text: str | None, faq_queue: str | None, expected: PolicyDecision
) -> None:
    assert route_for(text, ROUTED, faq_queue) == expected


def test_a_tenant_without_rules_routes_to_the_default_queue() -> None:
    assert route_for("boleto", DEFAULT_CONFIG) == PolicyDecision(
        Policy.ROUTING, "default", "default"
    )
