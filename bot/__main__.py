"""Entry point: ``python -m bot`` (Telegram long polling) and ``python -m bot shell`` (console).

The command line only: arguments and settings here, the wiring in :mod:`bot.app`. A bad
setting, a missing or refused ``BOT_TOKEN`` or an unreachable Telegram stops the start with
one line on stderr and exit code 2; SIGTERM/SIGINT stop it cleanly (answers in flight
finish, exit code 0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.app import StartError, run_polling, run_shell
from bot.chat.console import CONSOLE_USER_ID
from bot.settings import SettingsError, load_settings
from bot.store import StorageError

logger = logging.getLogger("bot")

EXIT_OK, EXIT_CONFIG = 0, 2


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Telegram bot answering SMS delivery-status questions from SMS Center.",
    )
    parser.add_argument(
        "--demo", action="store_true", help="answer from a built-in simulated SMS Center account"
    )
    commands = parser.add_subparsers(dest="command")
    shell = commands.add_parser(
        "shell", help="a text console: type commands as in a chat (no Telegram token needed)"
    )
    shell.add_argument(
        "--demo", action="store_true", help="answer from a built-in simulated SMS Center account"
    )
    shell.add_argument(
        "--user",
        type=int,
        default=None,
        help=f"act as this Telegram user id (default {CONSOLE_USER_ID}, an admin)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the process exit code."""
    args = parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logging.basicConfig(
        level=settings.log_level_number,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level != "DEBUG":
        # httpx logs every request at INFO: noise at this level (and a URL never carries a key,
        # since every SMS Center call is a POST, but fewer lines is fewer places to look).
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        if args.command == "shell":
            user_id = args.user if args.user is not None else CONSOLE_USER_ID
            return asyncio.run(run_shell(settings, user_id=user_id, demo=args.demo))
        return asyncio.run(run_polling(settings, demo=args.demo))
    except (StartError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
