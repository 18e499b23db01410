"""The command menu (``setMyCommands``): what each person may use, in English and Russian, as
the command table (``bot.text.commands``) lists it."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.settings import Settings
from bot.text import Lang, commands


def bot_commands(lang: Lang, *, admin: bool, self_login: bool) -> list[BotCommand]:
    """The menu's ``BotCommand`` entries in ``lang``: admin commands only with ``admin``."""
    return [
        BotCommand(command=name, description=description)
        for name, description in commands.menu(lang, admin=admin, self_login=self_login)
    ]


async def register_menu(bot: Bot, settings: Settings) -> None:
    """Every non-admin command for everyone; admin commands too in each admin's private chat."""
    self_login = settings.allow_self_login
    for lang, code in ((Lang.EN, None), (Lang.RU, "ru")):
        await bot.set_my_commands(
            bot_commands(lang, admin=False, self_login=self_login),
            scope=BotCommandScopeDefault(),
            language_code=code,
        )
        for admin_id in sorted(settings.admin_ids):
            await bot.set_my_commands(
                bot_commands(lang, admin=True, self_login=self_login),
                scope=BotCommandScopeChat(chat_id=admin_id),
                language_code=code,
            )
