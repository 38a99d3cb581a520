"""Admitting and answering as processing does them, on a store's unit of work: the setup
steps of the integration tests that need a session in a given state."""

from __future__ import annotations

from atende.process_inbound.acting import write


def steps_admit(store, session_id, admit):
    """Save the session `admit` returns ("admitted"), or nothing when it returns None: the
    message is then "present" (waiting in the inbox) or a "duplicate" (answered before)."""

    def work(uow):
        current = uow.sessions.get(session_id)
        admitted = admit(current)
        if admitted is None:
            return "present" if current is not None and current.inbox else "duplicate"
        uow.sessions.save(admitted)
        uow.checkpoint("process.after_admit")
        return "admitted"

    return store.run(work).result


def steps_answer(store, session_id, decide):
    """Save everything `decide` returns for the session; None when there is none."""

    def work(uow):
        current = uow.sessions.get(session_id)
        if current is None:
            return None
        decision = decide(current)
        if decision.session == current:
            return current
        return write(uow, decision, current).session

    return store.run(work).result


def steps_answer_committed(store, session_id, decide):
    """`steps_answer`, with what it wrote (`Written`) and the commit's time."""

    def work(uow):
        current = uow.sessions.get(session_id)
        return write(uow, decide(current), current)

    committed = store.run(work)
    return committed.result, committed.at
