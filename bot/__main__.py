"""Entry point: ``python -m bot`` (Telegram long polling) and ``python -m bot shell`` (console).

The command line only: arguments and settings here, the wiring in :mod:`bot.app`. A bad
argument or setting (a malformed, missing or refused ``BOT_TOKEN``, a malformed
``ENCRYPTION_KEY``, a ``DATABASE_PATH`` that cannot be created or opened, ``--user`` out of
range) or an unreachable Telegram stops the start with one line on stderr naming it and exit
code 2, never a traceback; SIGTERM/SIGINT stop it cleanly (answers in flight finish, exit
code 0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.app import StartError, run_bot, run_shell
from bot.chat.console import CONSOLE_USER_ID
from bot.settings import MAX_USER_ID, SettingsError, load_settings, parse_user_id
from bot.store import CipherError, StorageError

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
    # Read as text and checked in `main`: argparse's own refusal is two lines (usage + error).
    shell.add_argument(
        "--user",
        default=None,
        help=f"act as this Telegram user id, 1 to {MAX_USER_ID} (default {CONSOLE_USER_ID}, "
        "an admin)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the process exit code."""
    args = parse_args(argv)
    try:
        user = getattr(args, "user", None)  # only the shell has --user
        user_id = CONSOLE_USER_ID if user is None else parse_user_id(user)
    except ValueError as exc:
        print(f"error: --user: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logging.basicConfig(
        stream=sys.stderr,  # never stdout: the console's answers are there
        level=settings.log_level_number,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level != "DEBUG":
        # httpx logs every request at INFO: noise at this level (and a URL never carries a key,
        # since every SMS Center call is a POST, but fewer lines is fewer places to look).
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        if args.command == "shell":
            return asyncio.run(run_shell(settings, user_id=user_id, demo=args.demo))
        return asyncio.run(run_bot(settings, demo=args.demo))
    except (StartError, StorageError, CipherError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
