"""The conversation's transition table, pair by pair: where a conversation may go, who may
move it there, and in which circumstances.

The expected table below is written out by hand from the issue's state diagram, not derived
from `atende.fsm.table`, so a changed edge or guard in the code fails here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from atende.errors import PermanentError
from atende.fsm.guards import Actor, GuardContext
from atende.fsm.machine import (
    MAX_HISTORY,
    InvalidTransitionError,
    allowed_targets,
    check,
    record,
)
from atende.fsm.states import BOT_STATES, ENDED_STATES, State

S = State
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Rule:
    """A guard as the issue describes it: contexts that allow the edge, contexts that refuse."""

    name: str
    allows: tuple[GuardContext, ...]
    refuses: tuple[GuardContext, ...]


OPEN = GuardContext()
ABUSIVE = GuardContext(abusive=True)
CLOSED_HOURS = GuardContext(within_business_hours=False)
MISSING_FIELDS = GuardContext(required_fields_collected=False)
AS_AGENT = GuardContext(actor=Actor.AGENT)
AS_SYSTEM = GuardContext(actor=Actor.SYSTEM)
WANTS_PERSON = GuardContext(handoff_requested=True)
WANTS_PERSON_OFF_HOURS_QUEUED = GuardContext(
    handoff_requested=True, within_business_hours=False, handoff_off_hours=True
)
WANTS_PERSON_OFF_HOURS_DECLINED = GuardContext(
    handoff_requested=True, within_business_hours=False, handoff_off_hours=False
)

#: Every context the tests use: a pair with no edge is refused in all of them.
EVERY_CONTEXT = (
    OPEN,
    ABUSIVE,
    CLOSED_HOURS,
    MISSING_FIELDS,
    AS_AGENT,
    AS_SYSTEM,
    WANTS_PERSON,
    WANTS_PERSON_OFF_HOURS_QUEUED,
    WANTS_PERSON_OFF_HOURS_DECLINED,
    GuardContext(actor=Actor.AGENT, handoff_requested=True, abusive=True),
    GuardContext(actor=Actor.SYSTEM, within_business_hours=False, abusive=True),
)

ALWAYS = Rule("always", allows=EVERY_CONTEXT, refuses=())
NOT_ABUSIVE = Rule(
    "not_abusive",
    allows=(OPEN, CLOSED_HOURS, MISSING_FIELDS, AS_AGENT),
    refuses=(ABUSIVE, GuardContext(abusive=True, within_business_hours=False)),
)
FIELDS_COLLECTED = Rule(
    "fields_collected",
    allows=(OPEN, CLOSED_HOURS),
    refuses=(MISSING_FIELDS, ABUSIVE),
)
HANDOFF_ALLOWED = Rule(
    "handoff_allowed",
    allows=(WANTS_PERSON, WANTS_PERSON_OFF_HOURS_QUEUED),
    refuses=(OPEN, CLOSED_HOURS, WANTS_PERSON_OFF_HOURS_DECLINED),
)
BY_AGENT = Rule("by_agent", allows=(AS_AGENT,), refuses=(OPEN, AS_SYSTEM))
BY_SYSTEM = Rule("by_system", allows=(AS_SYSTEM,), refuses=(OPEN, AS_AGENT))

ACTIVE = (S.TRIAGE, S.COLLECTING_INFO, S.ANSWERING, S.WAITING_USER)

#: (source, target) -> the rule the edge needs. A pair missing here is not in the table.
EXPECTED: dict[tuple[State, State], Rule] = {
    (S.NEW, S.TRIAGE): NOT_ABUSIVE,
    (S.TRIAGE, S.WAITING_USER): ALWAYS,
    (S.TRIAGE, S.COLLECTING_INFO): NOT_ABUSIVE,
    (S.ANSWERING, S.COLLECTING_INFO): NOT_ABUSIVE,
    (S.WAITING_USER, S.COLLECTING_INFO): NOT_ABUSIVE,
    (S.COLLECTING_INFO, S.COLLECTING_INFO): NOT_ABUSIVE,
    (S.TRIAGE, S.ANSWERING): NOT_ABUSIVE,
    (S.WAITING_USER, S.ANSWERING): NOT_ABUSIVE,
    (S.ANSWERING, S.ANSWERING): NOT_ABUSIVE,
    (S.COLLECTING_INFO, S.ANSWERING): FIELDS_COLLECTED,
    (S.ANSWERING, S.WAITING_USER): ALWAYS,
    (S.COLLECTING_INFO, S.WAITING_USER): ALWAYS,
    (S.WAITING_USER, S.WAITING_USER): ALWAYS,
    (S.WAITING_USER, S.TRIAGE): NOT_ABUSIVE,
    **{(source, S.HANDOFF_HUMAN): HANDOFF_ALLOWED for source in (S.NEW, *ACTIVE, S.ERROR)},
    (S.RESOLVED, S.HANDOFF_HUMAN): BY_AGENT,
    (S.CLOSED, S.HANDOFF_HUMAN): BY_AGENT,
    (S.HANDOFF_HUMAN, S.TRIAGE): BY_AGENT,
    (S.HANDOFF_HUMAN, S.COLLECTING_INFO): BY_AGENT,
    (S.HANDOFF_HUMAN, S.WAITING_USER): BY_AGENT,
    (S.ANSWERING, S.RESOLVED): NOT_ABUSIVE,
    (S.WAITING_USER, S.RESOLVED): NOT_ABUSIVE,
    (S.HANDOFF_HUMAN, S.RESOLVED): BY_AGENT,
    (S.RESOLVED, S.TRIAGE): ALWAYS,
    (S.CLOSED, S.TRIAGE): ALWAYS,
    **{(source, S.CLOSED): BY_SYSTEM for source in (S.NEW, *ACTIVE, S.RESOLVED, S.ERROR)},
    **{(source, S.ERROR): BY_SYSTEM for source in (S.NEW, *ACTIVE, S.RESOLVED, S.CLOSED)},
    (S.ERROR, S.TRIAGE): ALWAYS,
}

ALL_PAIRS = list(product(State, State))
EDGE_CASES = [
    pytest.param(source, target, ctx, id=f"{source}->{target}:{EXPECTED[source, target].name}#{i}")
    for source, target in ALL_PAIRS
    if (source, target) in EXPECTED
    for i, ctx in enumerate(EXPECTED[source, target].allows)
]
REFUSED_CASES = [
    pytest.param(source, target, ctx, id=f"{source}->{target}:{EXPECTED[source, target].name}#{i}")
    for source, target in ALL_PAIRS
    if (source, target) in EXPECTED
    for i, ctx in enumerate(EXPECTED[source, target].refuses)
]
NO_EDGE = [
    pytest.param(source, target, id=f"{source}->{target}")
    for source, target in ALL_PAIRS
    if (source, target) not in EXPECTED
]


def test_the_expected_table_covers_every_pair_of_the_nine_states() -> None:
    assert len(State) == 9
    assert len(ALL_PAIRS) == 81
    assert len(EXPECTED) + len(NO_EDGE) == 81
    # Every guarded edge is exercised both ways; "always" has nothing to refuse.
    for (source, target), rule in EXPECTED.items():
        assert rule.allows, (source, target)
        assert rule.refuses or rule is ALWAYS, (source, target)


@pytest.mark.parametrize(("source", "target", "ctx"), EDGE_CASES)
def test_an_edge_is_allowed_when_its_guard_holds(
    source: State, target: State, ctx: GuardContext
) -> None:
    check(source, target, ctx)
    assert target in allowed_targets(source, ctx)


@pytest.mark.parametrize(("source", "target", "ctx"), REFUSED_CASES)
def test_an_edge_is_refused_when_its_guard_does_not_hold(
    source: State, target: State, ctx: GuardContext
) -> None:
    assert target not in allowed_targets(source, ctx)
    with pytest.raises(InvalidTransitionError) as raised:
        check(source, target, ctx)
    assert raised.value.reason.startswith("guard refused:")
    assert (raised.value.source, raised.value.target) == (source, target)


@pytest.mark.parametrize(("source", "target"), NO_EDGE)
def test_a_pair_missing_from_the_table_is_refused_in_every_context(
    source: State, target: State
) -> None:
    for ctx in EVERY_CONTEXT:
        assert target not in allowed_targets(source, ctx)
        with pytest.raises(InvalidTransitionError) as raised:
            check(source, target, ctx)
        assert raised.value.reason == "not in the transition table"


@pytest.mark.parametrize("source", list(State))
@pytest.mark.parametrize("ctx", EVERY_CONTEXT, ids=lambda ctx: repr(ctx)[len("GuardContext") :])
def test_allowed_targets_is_exactly_what_check_accepts(source: State, ctx: GuardContext) -> None:
    accepted = set()
    for target in State:
        try:
            check(source, target, ctx)
        except InvalidTransitionError:
            continue
        accepted.add(target)
    assert allowed_targets(source, ctx) == accepted


@pytest.mark.parametrize(
    ("source", "target", "ctx", "reason"),
    [
        (S.HANDOFF_HUMAN, S.ANSWERING, AS_AGENT, "not in the transition table"),
        (S.NEW, S.RESOLVED, OPEN, "not in the transition table"),
        (S.NEW, S.CLOSED, OPEN, "guard refused: by_system"),
        (S.WAITING_USER, S.HANDOFF_HUMAN, WANTS_PERSON_OFF_HOURS_DECLINED,
         "guard refused: handoff_allowed"),
        (S.COLLECTING_INFO, S.ANSWERING, MISSING_FIELDS, "guard refused: fields_collected"),
    ],
)  # fmt: skip
def test_an_invalid_transition_names_its_source_target_and_reason(
    source: State, target: State, ctx: GuardContext, reason: str
) -> None:
    with pytest.raises(InvalidTransitionError) as raised:
        check(source, target, ctx)
    error = raised.value
    assert str(error) == f"{source.value} -> {target.value} is not allowed ({reason})"
    assert error.code == "invalid_transition"
    # An engine fault, never something a retry fixes.
    assert isinstance(error, PermanentError)


@pytest.mark.parametrize("source", list(State))
@pytest.mark.parametrize("actor", [Actor.CONTACT, Actor.AGENT])
def test_only_the_system_can_put_a_conversation_in_error(source: State, actor: Actor) -> None:
    for ctx in EVERY_CONTEXT:
        as_actor = replace(ctx, actor=actor)
        assert S.ERROR not in allowed_targets(source, as_actor)
        with pytest.raises(InvalidTransitionError):
            check(source, S.ERROR, as_actor)


@pytest.mark.parametrize(
    ("source", "reachable"),
    [(source, source not in (S.HANDOFF_HUMAN, S.ERROR)) for source in State],
)
def test_the_system_reaches_error_from_every_state_but_a_handoff_or_error_itself(
    source: State, reachable: bool
) -> None:
    assert (S.ERROR in allowed_targets(source, AS_SYSTEM)) is reachable


@pytest.mark.parametrize("ended", sorted(ENDED_STATES))
@pytest.mark.parametrize("ctx", EVERY_CONTEXT, ids=lambda ctx: repr(ctx)[len("GuardContext") :])
def test_a_resolved_or_closed_conversation_reopens_to_triage_whoever_writes(
    ended: State, ctx: GuardContext
) -> None:
    assert S.TRIAGE in allowed_targets(ended, ctx)
    # ... and to nothing the bot would answer from directly.
    assert not (allowed_targets(ended, ctx) & (BOT_STATES - {S.TRIAGE}))


def test_a_handed_off_conversation_only_moves_when_an_agent_moves_it() -> None:
    for ctx in EVERY_CONTEXT:
        targets = allowed_targets(S.HANDOFF_HUMAN, ctx)
        if ctx.actor == Actor.AGENT:
            assert targets == {S.TRIAGE, S.COLLECTING_INFO, S.WAITING_USER, S.RESOLVED}
        else:
            assert targets == frozenset()


def test_an_abusive_contact_cannot_move_the_conversation_forward() -> None:
    assert allowed_targets(S.NEW, ABUSIVE) == frozenset()
    assert allowed_targets(S.TRIAGE, ABUSIVE) == {S.WAITING_USER}
    assert allowed_targets(S.COLLECTING_INFO, ABUSIVE) == {S.WAITING_USER}
    assert allowed_targets(S.WAITING_USER, ABUSIVE) == {S.WAITING_USER}


def _history(count: int) -> tuple:
    history: tuple = ()
    for index in range(count):
        source, target = (S.TRIAGE, S.WAITING_USER) if index % 2 else (S.WAITING_USER, S.TRIAGE)
        history = record(history, source, target, f"step_{index}", NOW + timedelta(seconds=index))
    return history


@pytest.mark.parametrize("count", [1, MAX_HISTORY - 1, MAX_HISTORY])
def test_the_history_keeps_every_transition_up_to_its_bound(count: int) -> None:
    history = _history(count)
    assert [entry.reason for entry in history] == [f"step_{i}" for i in range(count)]


@pytest.mark.parametrize("extra", [1, 7])
def test_the_history_is_bounded_and_keeps_the_newest_transitions(extra: int) -> None:
    total = MAX_HISTORY + extra
    history = _history(total)
    assert len(history) == MAX_HISTORY
    assert [entry.reason for entry in history] == [f"step_{i}" for i in range(extra, total)]
    newest = history[-1]
    assert newest.at == NOW + timedelta(seconds=total - 1)
    assert (newest.source, newest.target) == (
        (S.TRIAGE, S.WAITING_USER) if (total - 1) % 2 else (S.WAITING_USER, S.TRIAGE)
    )


def test_recording_does_not_change_the_history_it_was_given() -> None:
    before = _history(MAX_HISTORY)
    after = record(before, S.TRIAGE, S.ANSWERING, "answer", NOW)
    assert len(before) == MAX_HISTORY and before[-1].reason == f"step_{MAX_HISTORY - 1}"
    assert after[-1].reason == "answer" and after[0] == before[1]
