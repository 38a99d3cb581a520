"""`atende` command-line entry: parses arguments and hands each subcommand to its module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atende", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the whole local stack until Ctrl-C")
    dev.add_argument("--functions-port", type=int, default=8080)
    dev.add_argument(
        "--ai-sandbox",
        action="store_true",
        help="also serve a local OpenAI-compatible AI and point the functions at it",
    )

    simulate = sub.add_parser("simulate", help="post a signed provider delivery to the stack")
    simulate.add_argument("channel", help="whatsapp, instagram, messenger, … (any channel)")
    simulate.add_argument("--from", dest="contact", default="5511999990000")
    simulate.add_argument("--text", default="Oi")
    simulate.add_argument("--payload", help="post this file's bytes unchanged (signed)")
    simulate.add_argument("--json", action="store_true", help="print one JSON object")
    simulate.add_argument("--timeout", type=float, default=20.0)

    inspect = sub.add_parser("inspect", help="show stored state")
    inspect_sub = inspect.add_subparsers(dest="what", required=True)
    session = inspect_sub.add_parser("session", help="print a session and its replies")
    session.add_argument("--channel", default="whatsapp")
    session.add_argument("--contact", required=True)
    session.add_argument("--tenant", help="defaults to the only configured tenant")

    tenant = sub.add_parser("tenant", help="a tenant's configuration in Firestore")
    tenant_sub = tenant.add_subparsers(dest="action", required=True)
    tenant_set = tenant_sub.add_parser("set", help="validate a JSON file and store it")
    tenant_set.add_argument("file")
    tenant_show = tenant_sub.add_parser("show", help="print a tenant's stored configuration")
    tenant_show.add_argument("tenant_id")

    agent = sub.add_parser("agent", help="act as a human agent (through agent_reply)")
    agent_sub = agent.add_subparsers(dest="action", required=True)
    agent_list = agent_sub.add_parser("list", help="conversations waiting for an agent")
    agent_list.add_argument("--tenant", help="defaults to the only configured tenant")
    for action, what in (
        ("reply", "send a reply to the contact (the bot stays silent)"),
        ("release", "hand the conversation back to the bot"),
        ("resolve", "mark the conversation resolved"),
    ):
        command = agent_sub.add_parser(action, help=what)
        command.add_argument("--contact", help="the contact's provider id (a phone number)")
        command.add_argument("--channel", default="whatsapp")
        command.add_argument("--session", help="the session id, instead of --contact")
        command.add_argument("--tenant", help="defaults to the only configured tenant")
        command.add_argument("--agent", default="cli-agent", help="the agent's id (not a name)")
        command.add_argument("--request-id", help="reuse to retry the same request")
        if action == "reply":
            command.add_argument("--text", required=True)

    from atende.cli.agent import add_token_commands

    add_token_commands(agent_sub)

    from atende.cli.dead_letters import add_parser as add_dead_letters

    add_dead_letters(sub)

    from atende.cli.smoke import add_parser as add_smoke

    add_smoke(sub)

    package = sub.add_parser("package", help="build one self-contained bundle per function")
    package.add_argument("--out", default="build")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "dev":
        from atende.cli.dev import run_dev

        return run_dev(args.functions_port, ai_sandbox=args.ai_sandbox)
    if args.command == "simulate":
        from atende.cli.simulate import run_simulate

        return run_simulate(args)
    if args.command == "inspect":
        from atende.cli.inspect import run_inspect_session

        return run_inspect_session(args)
    if args.command == "tenant":
        from atende.cli.tenant import run_tenant

        return run_tenant(args)
    if args.command == "dead-letters":
        from atende.cli.dead_letters import run_dead_letters

        return run_dead_letters(args)
    if args.command == "smoke":
        from atende.cli.smoke import run_smoke

        return run_smoke(args)
    if args.command == "agent":
        from atende.cli.agent import run_agent

        return run_agent(args)
    from atende.packaging import build_all

    for bundle in build_all(out_dir=args.out):
        print(f"built {bundle}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
