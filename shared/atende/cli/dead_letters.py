"""`atende dead-letters list|replay`: the work tasks gave up on, and enqueueing it again.

A dead letter is written by a worker on its task's last attempt (tasks/dead_letters.py).
`replay` enqueues each one again on its queue, for its target, with its body, under a new
task name, and marks it `replayed` (kept, not deleted). The original idempotency keys
(dedupe records, outbox ids) make the replayed work take effect exactly once.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from atende.cli.stack_env import load_stack_env
from atende.domain.dead_letter import DeadLetter, DeadLetterStatus


def add_parser(sub: Any) -> None:
    """Register `dead-letters` on the CLI's subcommands."""
    dead = sub.add_parser("dead-letters", help="work whose task ran out of attempts")
    dead_sub = dead.add_subparsers(dest="action", required=True)
    listing = dead_sub.add_parser("list", help="every dead letter, oldest first")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    replay = dead_sub.add_parser("replay", help="enqueue dead letters again (new task names)")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", help="the dead letter's id")
    which.add_argument("--all", action="store_true", help="every open dead letter")


def summary(letter: DeadLetter) -> dict[str, Any]:
    """What an operator sees: ids, codes and times; never the body (it holds message text)."""
    return {
        "id": letter.id,
        "function": letter.function,
        "kind": letter.kind,
        "tenant_id": letter.tenant_id,
        "channel": letter.channel,
        "session_id": letter.session_id,
        "outbox_id": letter.outbox_id,
        "error": letter.error,
        "attempts": letter.attempts,
        "first_attempt_at": _iso(letter.first_attempt_at),
        "last_attempt_at": _iso(letter.last_attempt_at),
        "status": letter.status.value,
        "replayed_at": _iso(letter.replayed_at),
        "replay_task_names": list(letter.replay_task_names),
        "task_name": letter.task_name,
        "body_bytes": len(letter.body),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def run_dead_letters(args: argparse.Namespace) -> int:
    load_stack_env()
    from atende.bootstrap import container

    app = container()
    if args.action == "list":
        letters = app.dead_letters.list_all()
        if args.json:
            print(json.dumps([summary(letter) for letter in letters], indent=2))
            return 0
        if not letters:
            print("no dead letters")
        for letter in letters:
            row = summary(letter)
            print(
                f"{row['id']}  {row['status']}  {row['function']}/{row['kind']}  "
                f"tenant={row['tenant_id']}  session={row['session_id']}  "
                f"error={row['error']}  attempts={row['attempts']}  "
                f"first={row['first_attempt_at']}  last={row['last_attempt_at']}"
            )
        return 0
    return _replay(app, args)


def _replay(app: Any, args: argparse.Namespace) -> int:
    from atende.observability.context import new_correlation_id
    from atende.tasks.dead_letters import DeadLetterReplayer

    store = app.dead_letters
    if args.all:
        letters = [x for x in store.list_all() if x.status == DeadLetterStatus.OPEN]
    else:
        found = store.get(args.id)
        if found is None:
            print(f"no dead letter {args.id}")
            return 1
        letters = [found]
    if not letters:
        print("no open dead letters")
        return 0
    replayer = DeadLetterReplayer(store, app.task_queue, app.clock)
    for letter in letters:
        done = replayer.replay(letter, new_correlation_id())
        note = "" if done.enqueued else " (the queue had that task already)"
        print(f"replayed {letter.id} ({letter.kind}) as task {done.task_name}{note}")
    return 0
