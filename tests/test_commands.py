"""The command table (``bot.text.commands``): /help, the menu and the usage lines come from it."""

from __future__ import annotations

import re

import pytest

from bot.chat.escaping import Html, fill_html
from bot.text import Lang
from bot.text.commands import (
    BY_NAME,
    COMMANDS,
    Audience,
    help_section,
    help_sections,
    menu,
    usage,
)

ADMIN_NAMES = {
    "addkey",
    "rekey",
    "delkey",
    "keys",
    "grant",
    "revoke",
    "users",
    "audit",
    "push",
}
LOOKUP_NAMES = {"last", "history", "recent", "failed", "status"}
WATCH_NAMES = {"watch", "unwatch", "watches"}


def test_every_command_is_listed_once_under_a_valid_name() -> None:
    names = [command.name for command in COMMANDS]
    assert len(names) == len(set(names)) == len(BY_NAME)
    assert all(re.fullmatch(r"[a-z0-9_]{1,32}", name) for name in names)  # Telegram's rule
    assert {c.name for c in COMMANDS if c.audience is Audience.ADMIN} == ADMIN_NAMES
    assert {c.name for c in COMMANDS if c.audience is Audience.MEMBER} == (
        LOOKUP_NAMES | WATCH_NAMES
    )


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("self_login", [True, False])
def test_the_menu_shows_admin_commands_to_admins_only(lang: Lang, self_login: bool) -> None:
    everyone = dict(menu(lang, admin=False, self_login=self_login))
    admins = dict(menu(lang, admin=True, self_login=self_login))
    assert everyone.keys() >= LOOKUP_NAMES and not ADMIN_NAMES & everyone.keys()
    assert admins.keys() == everyone.keys() | ADMIN_NAMES
    assert ("login" in everyone) is self_login and "logout" in everyone and "help" in everyone
    assert all(3 <= len(description) <= 256 for description in admins.values())
    assert everyone["last"] == BY_NAME["last"].menu(lang)


def test_help_has_the_admin_section_for_admins_only() -> None:
    member = "\n\n".join(help_sections(Lang.EN, admin=False, self_login=False))
    admin = "\n\n".join(help_sections(Lang.EN, admin=True, self_login=True))
    assert "/history PHONE [N] — the last N messages to a number" in member
    assert "/addkey" not in member and "/login" not in member and "/help" not in member
    assert "<b>Admin</b>\n/addkey NAME API_KEY — register an account (private chat)" in admin
    assert "/login API_KEY" in admin


def test_help_sections_are_in_russian_for_russian_speakers() -> None:
    section = help_section(Audience.MEMBER, Lang.RU, self_login=False)
    assert section.startswith("<b>Проверка</b>\n/last НОМЕР — последнее сообщение на номер")
    assert section.endswith("Просто номер телефона в личном чате работает как /last.")


def test_usage_lines_spell_the_command_as_help_does_and_fill_their_range() -> None:
    assert usage("recent", Lang.EN, max=50) == (
        "Usage: <code>/recent [N]</code>, N from 1 to 50. Example: <code>/recent 10</code>"
    )
    assert usage("delkey", Lang.RU) == "Формат: <code>/delkey ИМЯ</code>"
    for command in COMMANDS:
        for lang in Lang:
            line = usage(command.name, lang, max=7)
            assert f"<code>/{command.name}" in line and "{" not in line


def test_fill_html_escapes_values_but_not_html() -> None:
    line = fill_html("<b>{name}</b> {note}", name="<i>&", note=Html("<code>x</code>"))
    assert line == "<b>&lt;i&gt;&amp;</b> <code>x</code>"
    assert isinstance(line, Html)  # a filled line can be a value of another
    assert fill_html("{n} of {m}", n=3, m=5) == "3 of 5"


def test_each_lookup_usage_shows_the_example_its_refusals_show() -> None:
    """Issue 15, item 10: one example per command, in the usage line and in every refusal."""
    from bot.chat import arguments
    from bot.text import InvalidPhone
    from bot.text.commands import EXAMPLES, example

    for name in LOOKUP_NAMES | {"watch"}:
        for lang in Lang:
            assert f"<code>{example(name)}</code>" in usage(name, lang, max=20)
    for name in ("last", "history", "status"):
        refusal = arguments.bad_phone(InvalidPhone("too_short"), name, Lang.EN).reply
        assert f"<code>{EXAMPLES[name]}</code>" in refusal
    # The /status example is what the command reads: an id, then a number.
    id_text, phone_text = arguments.split_first(EXAMPLES["status"].removeprefix("/status "))
    assert arguments.message_id(id_text, "usage") == 1234
    assert arguments.phone(phone_text, "status", Lang.EN) == "79991234567"
