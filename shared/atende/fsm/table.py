"""The explicit transition table: every allowed (from, to) pair and the guard it needs."""

from __future__ import annotations

from dataclasses import dataclass

from atende.fsm.guards import (
    Guard,
    always,
    by_agent,
    by_system,
    fields_collected,
    handoff_allowed,
    not_abusive,
)
from atende.fsm.states import State as S


@dataclass(frozen=True)
class Edge:
    source: frozenset[S]
    target: S
    guard: Guard
    #: What the edge means, for documentation and errors.
    meaning: str


def _edge(sources: set[S], target: S, guard: Guard, meaning: str) -> Edge:
    return Edge(frozenset(sources), target, guard, meaning)


_ACTIVE = {S.TRIAGE, S.COLLECTING_INFO, S.ANSWERING, S.WAITING_USER}

TABLE: tuple[Edge, ...] = (
    _edge({S.NEW}, S.TRIAGE, not_abusive, "greet and ask what the contact needs"),
    _edge({S.TRIAGE, S.ANSWERING, S.WAITING_USER}, S.COLLECTING_INFO, not_abusive,
          "ask for a required field"),
    _edge({S.COLLECTING_INFO}, S.COLLECTING_INFO, not_abusive, "ask for the next field"),
    _edge({S.TRIAGE, S.WAITING_USER, S.ANSWERING}, S.ANSWERING, not_abusive, "answer"),
    _edge({S.COLLECTING_INFO}, S.ANSWERING, fields_collected,
          "every required field is collected: answer"),
    _edge({S.TRIAGE, S.ANSWERING, S.COLLECTING_INFO, S.WAITING_USER}, S.WAITING_USER, always,
          "wait for the contact's next message"),
    _edge({S.WAITING_USER}, S.TRIAGE, not_abusive, "a new subject"),
    _edge({S.NEW, *_ACTIVE, S.ERROR}, S.HANDOFF_HUMAN, handoff_allowed,
          "hand the conversation to a person"),
    _edge({S.RESOLVED, S.CLOSED}, S.HANDOFF_HUMAN, by_agent, "an agent takes the conversation"),
    _edge({S.HANDOFF_HUMAN}, S.TRIAGE, by_agent, "an agent hands the conversation back"),
    _edge({S.HANDOFF_HUMAN}, S.COLLECTING_INFO, by_agent, "an agent hands the conversation back"),
    _edge({S.HANDOFF_HUMAN}, S.WAITING_USER, by_agent, "an agent hands the conversation back"),
    _edge({S.ANSWERING, S.WAITING_USER}, S.RESOLVED, not_abusive,
          "the contact says they are done"),
    _edge({S.HANDOFF_HUMAN}, S.RESOLVED, by_agent, "an agent resolves the conversation"),
    _edge({S.RESOLVED, S.CLOSED}, S.TRIAGE, always, "a new message reopens the conversation"),
    _edge({S.NEW, *_ACTIVE, S.RESOLVED, S.ERROR}, S.CLOSED, by_system,
          "closed after inactivity"),
    _edge({S.NEW, *_ACTIVE, S.RESOLVED, S.CLOSED}, S.ERROR, by_system,
          "the engine could not go on"),
    _edge({S.ERROR}, S.TRIAGE, always, "recover on the next message"),
)  # fmt: skip
