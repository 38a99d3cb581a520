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

    simulate = sub.add_parser("simulate", help="post a signed provider delivery to the stack")
    simulate.add_argument("channel", choices=["whatsapp"])
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

    package = sub.add_parser("package", help="build one self-contained bundle per function")
    package.add_argument("--out", default="build")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "dev":
        from atende.cli.dev import run_dev

        return run_dev(args.functions_port)
    if args.command == "simulate":
        from atende.cli.simulate import run_simulate

        return run_simulate(args)
    if args.command == "inspect":
        from atende.cli.inspect import run_inspect_session

        return run_inspect_session(args)
    from atende.packaging import build_all

    for bundle in build_all(out_dir=args.out):
        print(f"built {bundle}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
