"""The command table: each command's name, who may use it, its arguments and what it does, in
English and Russian — written once.

``/help`` (for the asker's role), the command menu (``setMyCommands``) and the usage lines that
answer a wrong argument are all made from ``COMMANDS``; a command added here appears in all
three. Like the rest of the words layer this imports no aiogram: the menu's ``BotCommand``
objects are built by the chat side from ``menu()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.text.codes import Lang, Text


class Audience(StrEnum):
    """Who may use a command (PRODUCT.md §4)."""

    ANYONE = "anyone"
    MEMBER = "member"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command as people see it.

    ``syntax`` is its arguments as ``/help`` and the usage line show them (None: it takes none);
    ``note`` is what the usage line adds after them (a range, an example; may hold ``{max}``);
    ``menu`` is the command menu's description (Telegram: 3–256 characters); a ``self_login``
    command is listed only where users may log in with their own key; ``in_help`` False keeps
    it out of ``/help`` (``/help`` itself).
    """

    name: str
    audience: Audience
    description: Text
    menu: Text
    syntax: Text | None = None
    note: Text | None = None
    self_login: bool = False
    in_help: bool = True

    def __post_init__(self) -> None:
        # Telegram refuses the whole menu over one bad entry; fail at import instead.
        for text in (self.menu.en, self.menu.ru):
            if not 3 <= len(text) <= 256:
                raise ValueError(f"/{self.name}: a menu description has 3–256 characters")


_EXAMPLE_PHONE = "+7 999 123-45-67"

COMMANDS: tuple[CommandSpec, ...] = (
    # --- lookups ------------------------------------------------------------------------------
    CommandSpec(
        "last",
        Audience.MEMBER,
        description=Text("the last message to a number", "последнее сообщение на номер"),
        menu=Text("last message to a number", "последнее сообщение на номер"),
        syntax=Text("PHONE", "НОМЕР"),
        note=Text(
            f". Example: <code>/last {_EXAMPLE_PHONE}</code>",
            f". Пример: <code>/last {_EXAMPLE_PHONE}</code>",
        ),
    ),
    CommandSpec(
        "history",
        Audience.MEMBER,
        description=Text("the last N messages to a number", "последние N сообщений на номер"),
        menu=Text("last messages to a number", "последние сообщения на номер"),
        syntax=Text("PHONE [N]", "НОМЕР [N]"),
        note=Text(
            f", N from 1 to {{max}}. Example: <code>/history {_EXAMPLE_PHONE} 10</code>",
            f", N от 1 до {{max}}. Пример: <code>/history {_EXAMPLE_PHONE} 10</code>",
        ),
    ),
    CommandSpec(
        "recent",
        Audience.MEMBER,
        description=Text("the account's last N messages", "последние N сообщений аккаунта"),
        menu=Text("account's last messages", "последние сообщения аккаунта"),
        syntax=Text("[N]", "[N]"),
        note=Text(
            ", N from 1 to {max}. Example: <code>/recent 10</code>",
            ", N от 1 до {max}. Пример: <code>/recent 10</code>",
        ),
    ),
    CommandSpec(
        "failed",
        Audience.MEMBER,
        description=Text(
            "undelivered messages, by reason and operator",
            "недоставленные, по причинам и операторам",
        ),
        menu=Text("undelivered messages by reason", "недоставленные по причинам"),
        syntax=Text("[HOURS]", "[ЧАСОВ]"),
        note=Text(
            ", from 1 to {max}. Example: <code>/failed 3</code>",
            ", от 1 до {max}. Пример: <code>/failed 3</code>",
        ),
    ),
    CommandSpec(
        "status",
        Audience.MEMBER,
        description=Text("one message's status", "статус одного сообщения"),
        menu=Text("one message's status", "статус одного сообщения"),
        syntax=Text("ID PHONE", "ID НОМЕР"),
        note=Text(
            f". Example: <code>/status 1234 {_EXAMPLE_PHONE}</code>",
            f". Пример: <code>/status 1234 {_EXAMPLE_PHONE}</code>",
        ),
    ),
    # --- anyone -------------------------------------------------------------------------------
    CommandSpec(
        "whoami",
        Audience.ANYONE,
        description=Text("your role, account and quota", "ваша роль, аккаунт и лимит"),
        menu=Text("your role, account and quota", "ваша роль, аккаунт и лимит"),
    ),
    CommandSpec(
        "help",
        Audience.ANYONE,
        description=Text("what I can do", "что я умею"),
        menu=Text("what I can do", "что я умею"),
        in_help=False,
    ),
    CommandSpec(
        "login",
        Audience.ANYONE,
        description=Text(
            "use your own SMS Center key (private chat only)",
            "использовать свой ключ SMS Center (только в личном чате)",
        ),
        menu=Text("use your own SMS Center key", "свой ключ SMS Center"),
        syntax=Text("API_KEY", "API_КЛЮЧ"),
        note=Text(
            " (SMS Center → Settings → API key). I delete the message right after reading it.",
            " (SMS Center → Настройки → API-ключ). Я удалю сообщение сразу после прочтения.",
        ),
        self_login=True,
    ),
    CommandSpec(
        "logout",
        Audience.ANYONE,
        description=Text("drop your access", "отказаться от доступа"),
        menu=Text("drop your access", "отказаться от доступа"),
    ),
    # --- admin --------------------------------------------------------------------------------
    CommandSpec(
        "addkey",
        Audience.ADMIN,
        description=Text("register an account (private chat)", "добавить аккаунт (в личном чате)"),
        menu=Text("register an account", "добавить аккаунт"),
        syntax=Text("NAME API_KEY", "ИМЯ API_КЛЮЧ"),
        note=Text(
            "; NAME is 1–32 letters, digits, <code>-</code> or <code>_</code>.",
            "; ИМЯ — 1–32 буквы, цифры, <code>-</code> или <code>_</code>.",
        ),
    ),
    CommandSpec(
        "delkey",
        Audience.ADMIN,
        description=Text("remove an account", "удалить аккаунт"),
        menu=Text("remove an account", "удалить аккаунт"),
        syntax=Text("NAME", "ИМЯ"),
    ),
    CommandSpec(
        "keys",
        Audience.ADMIN,
        description=Text("accounts", "аккаунты"),
        menu=Text("accounts", "аккаунты"),
    ),
    CommandSpec(
        "grant",
        Audience.ADMIN,
        description=Text("give a user access", "дать пользователю доступ"),
        menu=Text("give a user access", "дать доступ"),
        syntax=Text("USER_ID NAME", "USER_ID ИМЯ"),
        note=Text(
            " (the user sees their id in /whoami).", " (пользователь видит свой id в /whoami)."
        ),
    ),
    CommandSpec(
        "revoke",
        Audience.ADMIN,
        description=Text("take it away", "забрать доступ"),
        menu=Text("take access away", "забрать доступ"),
        syntax=Text("USER_ID", "USER_ID"),
    ),
    CommandSpec(
        "users",
        Audience.ADMIN,
        description=Text("who has access", "у кого есть доступ"),
        menu=Text("who has access", "у кого есть доступ"),
    ),
    CommandSpec(
        "push",
        Audience.ADMIN,
        description=Text(
            "status pushes from SMS Center for an account (private chat)",
            "пуши статусов от SMS Center для аккаунта (в личном чате)",
        ),
        menu=Text("status pushes for an account", "пуши статусов для аккаунта"),
        syntax=Text("NAME [new | off | relay URL]", "ИМЯ [new | off | relay URL]"),
        note=Text(
            ": the handler URL to paste into SMS Center; <code>new</code> makes a new secret, "
            "<code>off</code> turns pushes off, <code>relay URL</code> passes them on to "
            "another system's handler URL.",
            ": адрес обработчика для настроек SMS Center; <code>new</code> — новый секрет, "
            "<code>off</code> — выключить пуши, <code>relay URL</code> — передавать их на адрес "
            "обработчика другой системы.",
        ),
    ),
    CommandSpec(
        "audit",
        Audience.ADMIN,
        description=Text("the last lookups", "последние запросы"),
        menu=Text("last lookups", "последние запросы"),
        syntax=Text("[N]", "[N]"),
        note=Text(", N from 1 to {max}.", ", N от 1 до {max}."),
    ),
)

BY_NAME: dict[str, CommandSpec] = {command.name: command for command in COMMANDS}

USAGE = Text("Usage: <code>{command}</code>{note}", "Формат: <code>{command}</code>{note}")
HELP_HEADINGS: dict[Audience, Text] = {
    Audience.MEMBER: Text("Lookups", "Проверка"),
    Audience.ANYONE: Text("You", "Вы"),
    Audience.ADMIN: Text("Admin", "Администратор"),
}
HELP_BARE_NUMBER = Text(
    "A bare phone number in a private chat works like /last.",
    "Просто номер телефона в личном чате работает как /last.",
)


def _spelled(command: CommandSpec, lang: Lang) -> str:
    """``/name ARGS`` as the user types it."""
    if command.syntax is None:
        return f"/{command.name}"
    return f"/{command.name} {command.syntax(lang)}"


def usage(name: str, lang: Lang, **values: object) -> str:
    """The usage line of command ``name`` (HTML), its note's placeholders filled from
    ``values`` (e.g. ``max=50``)."""
    command = BY_NAME[name]
    note = command.note(lang).format(**values) if command.note is not None else ""
    return USAGE(lang).format(command=_spelled(command, lang), note=note)


def listed(audiences: frozenset[Audience], *, self_login: bool) -> tuple[CommandSpec, ...]:
    """The commands of ``audiences``, in table order; ``/login`` only with ``self_login``."""
    return tuple(
        command
        for command in COMMANDS
        if command.audience in audiences and (self_login or not command.self_login)
    )


def help_section(audience: Audience, lang: Lang, *, self_login: bool) -> str:
    """One section of ``/help`` (HTML): a bold heading, then a line per command."""
    lines = [f"<b>{HELP_HEADINGS[audience](lang)}</b>"]
    for command in listed(frozenset({audience}), self_login=self_login):
        if command.in_help:
            lines.append(f"{_spelled(command, lang)} — {command.description(lang)}")
    if audience is Audience.MEMBER:
        lines.append(HELP_BARE_NUMBER(lang))
    return "\n".join(lines)


def help_sections(lang: Lang, *, admin: bool, self_login: bool) -> list[str]:
    """The sections of ``/help`` for the asker: lookups and their own, and admin for admins."""
    audiences = [Audience.MEMBER, Audience.ANYONE] + ([Audience.ADMIN] if admin else [])
    return [help_section(audience, lang, self_login=self_login) for audience in audiences]


def menu(lang: Lang, *, admin: bool, self_login: bool) -> list[tuple[str, str]]:
    """The command menu as ``(command, description)`` pairs: every command but the admin ones,
    which only admins see."""
    audiences = {Audience.MEMBER, Audience.ANYONE} | ({Audience.ADMIN} if admin else set())
    return [
        (command.name, command.menu(lang))
        for command in listed(frozenset(audiences), self_login=self_login)
    ]
