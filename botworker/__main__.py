"""Serve every enabled polling bot (or the one named) until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging

from botworker.runner import DEFAULT_POLL_TIMEOUT, BotRunner


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m botworker", description=__doc__)
    parser.add_argument("--bot", metavar="NAME", help="serve only this bot (default: every enabled polling bot)")
    parser.add_argument(
        "--poll-timeout",
        type=int,
        default=DEFAULT_POLL_TIMEOUT,
        help="seconds one getUpdates long poll waits",
    )
    args = parser.parse_args(argv)

    from webapp import create_app

    app = create_app()
    logging.getLogger("botworker").setLevel(logging.INFO)
    BotRunner(app, name=args.bot, poll_timeout=args.poll_timeout).run_forever()


if __name__ == "__main__":
    main()
