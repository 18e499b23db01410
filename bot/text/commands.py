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
    it out of ``/help`` (``/help`` itself); a ``needs_access`` command of anyone's is listed in
    ``/help`` only for members (``/logout`` has nothing to drop for anyone else); a
    ``carries_key`` command's arguments hold an API key, which is never shown back (the console
    neither echoes nor remembers it).
    """

    name: str
    audience: Audience
    description: Text
    menu: Text
    syntax: Text | None = None
    note: Text | None = None
    self_login: bool = False
    in_help: bool = True
    needs_access: bool = False
    carries_key: bool = False

    def __post_init__(self) -> None:
        # Telegram refuses the whole menu over one bad entry; fail at import instead.
        for text in (self.menu.en, self.menu.ru):
            if not 3 <= len(text) <= 256:
                raise ValueError(f"/{self.name}: a menu description has 3–256 characters")


_EXAMPLE_PHONE = "+7 999 123-45-67"
# Each lookup's example, written once: the usage line shows it, and so does every refusal of a
# number given to that command (bot.chat.arguments.bad_phone), so the two never disagree.
EXAMPLES: dict[str, str] = {
    "last": f"/last {_EXAMPLE_PHONE}",
    "history": f"/history {_EXAMPLE_PHONE} 10",
    "recent": "/recent 10",
    "failed": "/failed 3",
    "status": f"/status 1234 {_EXAMPLE_PHONE}",
    "watch": "/watch 20 15",
}

COMMANDS: tuple[CommandSpec, ...] = (
    # --- lookups ------------------------------------------------------------------------------
    CommandSpec(
        "last",
        Audience.MEMBER,
        description=Text("the last message to a number", "последнее сообщение на номер"),
        menu=Text("last message to a number", "последнее сообщение на номер"),
        syntax=Text("PHONE", "НОМЕР"),
        note=Text(
            f". Example: <code>{EXAMPLES['last']}</code>",
            f". Пример: <code>{EXAMPLES['last']}</code>",
        ),
    ),
    CommandSpec(
        "history",
        Audience.MEMBER,
        description=Text("the last N messages to a number", "последние N сообщений на номер"),
        menu=Text("last messages to a number", "последние сообщения на номер"),
        syntax=Text("PHONE [N]", "НОМЕР [N]"),
        note=Text(
            f", N from 1 to {{max}}. Example: <code>{EXAMPLES['history']}</code>",
            f", N от 1 до {{max}}. Пример: <code>{EXAMPLES['history']}</code>",
        ),
    ),
    CommandSpec(
        "recent",
        Audience.MEMBER,
        description=Text("the account's last N messages", "последние N сообщений аккаунта"),
        menu=Text("account's last messages", "последние сообщения аккаунта"),
        syntax=Text("[N]", "[N]"),
        note=Text(
            f", N from 1 to {{max}}. Example: <code>{EXAMPLES['recent']}</code>",
            f", N от 1 до {{max}}. Пример: <code>{EXAMPLES['recent']}</code>",
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
            f", from 1 to {{max}}. Example: <code>{EXAMPLES['failed']}</code>",
            f", от 1 до {{max}}. Пример: <code>{EXAMPLES['failed']}</code>",
        ),
    ),
    CommandSpec(
        "status",
        Audience.MEMBER,
        description=Text("one message's status", "статус одного сообщения"),
        menu=Text("one message's status", "статус одного сообщения"),
        syntax=Text("ID PHONE", "ID НОМЕР"),
        note=Text(
            ", ID as /history and /recent show it (id …). "
            f"Example: <code>{EXAMPLES['status']}</code>",
            f", ID — как в /history и /recent (id …). Пример: <code>{EXAMPLES['status']}</code>",
        ),
    ),
    # --- on-call watch (PRODUCT.md §10) -------------------------------------------------------
    CommandSpec(
        "watch",
        Audience.MEMBER,
        description=Text(
            "alert this chat when SMS failures rise to PERCENT in MINUTES",
            "предупреждать этот чат, когда недоставленных SMS за МИНУТ станет ПРОЦЕНТ",
        ),
        menu=Text("alert this chat when failures rise", "оповещать чат о росте недоставок"),
        syntax=Text("[PERCENT] [MINUTES]", "[ПРОЦЕНТ] [МИНУТ]"),
        note=Text(
            ", PERCENT from 1 to 100 (default 20), MINUTES from 1 to 1440 (default 15). "
            f"Example: <code>{EXAMPLES['watch']}</code>",
            ", ПРОЦЕНТ от 1 до 100 (по умолчанию 20), МИНУТ от 1 до 1440 (по умолчанию 15). "
            f"Пример: <code>{EXAMPLES['watch']}</code>",
        ),
    ),
    CommandSpec(
        "unwatch",
        Audience.MEMBER,
        description=Text(
            "stop this chat's watch of your account", "снять наблюдение за вашим аккаунтом в чате"
        ),
        menu=Text("stop the failure alerts", "выключить оповещения о недоставках"),
    ),
    CommandSpec(
        "watches",
        Audience.MEMBER,
        description=Text(
            "this chat's watches and whether their data is current",
            "наблюдения в этом чате и свежесть их данных",
        ),
        menu=Text("this chat's failure alerts", "оповещения о недоставках в чате"),
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
        carries_key=True,
    ),
    CommandSpec(
        "logout",
        Audience.ANYONE,
        description=Text("drop your access", "отказаться от доступа"),
        menu=Text("drop your access", "отказаться от доступа"),
        needs_access=True,
    ),
    # --- admin --------------------------------------------------------------------------------
    CommandSpec(
        "addkey",
        Audience.ADMIN,
        description=Text("register an account (private chat)", "добавить аккаунт (в личном чате)"),
        menu=Text("register an account", "добавить аккаунт"),
        syntax=Text("NAME API_KEY", "ИМЯ API_КЛЮЧ"),
        note=Text(
            "; NAME is 1–32 Latin letters, digits, <code>-</code> or <code>_</code> "
            "(letter case does not matter).",
            "; ИМЯ — 1–32 латинские буквы, цифры, <code>-</code> или <code>_</code> "
            "(регистр не важен).",
        ),
        carries_key=True,
    ),
    CommandSpec(
        "rekey",
        Audience.ADMIN,
        description=Text(
            "replace an account's key, keeping its members (private chat)",
            "заменить ключ аккаунта, сохранив участников (в личном чате)",
        ),
        menu=Text("replace an account's key", "заменить ключ аккаунта"),
        syntax=Text("NAME NEW_API_KEY", "ИМЯ НОВЫЙ_API_КЛЮЧ"),
        note=Text(
            ". I delete the message right after reading it.",
            ". Я удалю сообщение сразу после прочтения.",
        ),
        carries_key=True,
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
        description=Text("who has access (private chat)", "у кого есть доступ (в личном чате)"),
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
        description=Text("the last lookups (private chat)", "последние запросы (в личном чате)"),
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


def carries_key(text: str) -> bool:
    """Whether the typed line ``text`` is a command whose arguments hold an API key
    (``/login KEY``, ``/addkey@bot NAME KEY``), in any letter case."""
    if not text.startswith("/"):
        return False
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    command = BY_NAME.get(name)
    return command is not None and command.carries_key


def example(name: str) -> str:
    """The example of command ``name`` as its usage line shows it (plain text); ``/name`` for
    a command without one."""
    return EXAMPLES.get(name, f"/{name}")


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


def help_section(audience: Audience, lang: Lang, *, self_login: bool, member: bool = True) -> str:
    """One section of ``/help`` (HTML): a bold heading, then a line per command the asker may
    use (a ``needs_access`` one only for a ``member``)."""
    lines = [f"<b>{HELP_HEADINGS[audience](lang)}</b>"]
    for command in listed(frozenset({audience}), self_login=self_login):
        if command.in_help and (member or not command.needs_access):
            lines.append(f"{_spelled(command, lang)} — {command.description(lang)}")
    if audience is Audience.MEMBER:
        lines.append(HELP_BARE_NUMBER(lang))
    return "\n".join(lines)


def help_sections(lang: Lang, *, admin: bool, self_login: bool, member: bool = True) -> list[str]:
    """The sections of ``/help`` for the asker, only what they may use: lookups for a
    ``member``, their own commands, and admin for an ``admin``."""
    audiences = (
        ([Audience.MEMBER] if member else [])
        + [Audience.ANYONE]
        + ([Audience.ADMIN] if admin else [])
    )
    return [
        help_section(audience, lang, self_login=self_login, member=member) for audience in audiences
    ]


def menu(lang: Lang, *, admin: bool, self_login: bool) -> list[tuple[str, str]]:
    """The command menu as ``(command, description)`` pairs: every command but the admin ones,
    which only admins see."""
    audiences = {Audience.MEMBER, Audience.ANYONE} | ({Audience.ADMIN} if admin else set())
    return [
        (command.name, command.menu(lang))
        for command in listed(frozenset(audiences), self_login=self_login)
    ]
