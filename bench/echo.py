"""The baselines of the overhead figure: bare aiogram Dispatchers with one handler each.

- ``echo_dispatcher``: the text comes back (``await message.answer(message.text)``);
- ``reply_dispatcher``: the bot's own answer to that question comes back — the same HTML and
  buttons, looked up in a table made beforehand — so that the cost of sending a long answer
  with buttons is told apart from the cost of the bot's work to make it.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiogram import Dispatcher, Router
from aiogram.types import InlineKeyboardMarkup, Message

Answers = Mapping[tuple[int, str], tuple[str, InlineKeyboardMarkup]]


def echo_dispatcher() -> Dispatcher:
    """``Dispatcher(disable_fsm=True)`` (as the bot's) with ``await message.answer(text)``."""
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.include_router(router)
    return dispatcher


def reply_dispatcher(answers: Answers) -> Dispatcher:
    """``Dispatcher(disable_fsm=True)`` answering each (user id, text) with ``answers``' reply."""
    router = Router(name="reply")

    @router.message()
    async def reply(message: Message) -> None:
        user = message.from_user.id if message.from_user else 0
        text, markup = answers[(user, message.text or "")]
        await message.answer(text, reply_markup=markup)

    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.include_router(router)
    return dispatcher
