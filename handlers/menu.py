"""The command menu (``setMyCommands``): what each person may use, in English and Russian."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.settings import Settings
from bot.text import Lang
from bot.text import catalogue as texts

MEMBER_COMMANDS = ("last", "history", "recent", "failed", "status", "whoami", "help")
ADMIN_COMMANDS = ("addkey", "delkey", "keys", "grant", "revoke", "users", "audit")


def commands(names: tuple[str, ...], lang: Lang) -> list[BotCommand]:
    """``BotCommand`` entries for ``names`` with descriptions in ``lang``."""
    return [BotCommand(command=name, description=texts.MENU[name](lang)) for name in names]


async def register_menu(bot: Bot, settings: Settings) -> None:
    """Member commands for everyone; admin commands too in each admin's private chat."""
    everyone = MEMBER_COMMANDS + (("login", "logout") if settings.allow_self_login else ("logout",))
    for lang, code in ((Lang.EN, None), (Lang.RU, "ru")):
        await bot.set_my_commands(
            commands(everyone, lang), scope=BotCommandScopeDefault(), language_code=code
        )
        for admin_id in sorted(settings.admin_ids):
            await bot.set_my_commands(
                commands(everyone + ADMIN_COMMANDS, lang),
                scope=BotCommandScopeChat(chat_id=admin_id),
                language_code=code,
            )
