"""Entry point: ``python -m bot`` (Telegram long polling) and ``python -m bot shell`` (console).

Wiring only: settings → services → dispatcher → polling or console. A bad setting, a missing
or refused ``BOT_TOKEN`` or an unreachable Telegram stops the start with one line on stderr
and exit code 2; SIGTERM/SIGINT stop it cleanly (answers in flight finish, exit code 0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack

from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

from bot.console import CONSOLE_USER_ID, run_console
from bot.demo import demo_smsc, prepare_demo_account
from bot.services import Services
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import StorageError
from bot.telegram import make_bot
from handlers import make_dispatcher, update_types
from handlers.menu import register_menu
from handlers.middleware import InFlight

logger = logging.getLogger("bot")

EXIT_OK, EXIT_CONFIG = 0, 2


class StartError(Exception):
    """The bot cannot start; ``str()`` is the one line to print."""


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
            return asyncio.run(run_console(settings, user_id=user_id, demo=args.demo))
        return asyncio.run(run_polling(settings, demo=args.demo))
    except (StartError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


async def run_polling(
    settings: Settings, *, demo: bool = False, handle_signals: bool = True
) -> int:
    """Long polling until SIGTERM/SIGINT; answers in flight are finished before the exit."""
    if settings.bot_token is None:
        raise StartError("BOT_TOKEN: required to talk to Telegram (get one from @BotFather)")
    token = settings.bot_token.get_secret_value()
    async with AsyncExitStack() as stack:
        if demo:
            settings = await stack.enter_async_context(demo_smsc(settings))
        services = await Services.open(settings)
        stack.push_async_callback(services.close)
        if demo:
            await prepare_demo_account(services.storage, settings.admin_ids, now=services.clock())
        bot = make_bot(token, settings.telegram_api_url)
        stack.push_async_callback(bot.session.close)
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            raise StartError(
                "BOT_TOKEN: Telegram refused this token (check it with @BotFather)"
            ) from None
        except TelegramNetworkError:
            raise StartError(
                f"TELEGRAM_API_URL: cannot reach {settings.telegram_api_url}"
            ) from None
        await register_menu(bot, settings)
        dispatcher = make_dispatcher(services)
        in_flight: InFlight = dispatcher["in_flight"]

        @dispatcher.shutdown()
        async def finish_in_flight() -> None:
            left = await in_flight.drain(within=settings.smsc_timeout + 5)
            if left:
                logger.warning("%d update(s) still in flight at shutdown were cancelled", left)

        logger.info("started as @%s%s", me.username, " (demo)" if demo else "")
        await dispatcher.start_polling(
            bot,
            handle_signals=handle_signals,
            close_bot_session=False,
            allowed_updates=update_types(dispatcher),
        )
        logger.info("stopped")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
