"""Command arguments as people type them: counts, user ids, message ids, account names, API keys
and phone numbers. Each parser returns the value or raises ``BadArgument`` with the line to
answer (usually the command's usage line, which the handler passes in).

Pure: no aiogram, no I/O, so every rule here is unit-tested on its own.
"""

from __future__ import annotations

import re

from bot.chat.escaping import Html, fill_html
from bot.text import (
    AmbiguousCount,
    InvalidPhone,
    Lang,
    Text,
    commands,
    format_phone,
    parse_phone,
    read_phone_and_count,
)
from bot.text import catalogue as texts
from bot.text.phones import InvalidPhoneReason

MAX_KEY_LENGTH = 256
# Enough digits for the numbers each kind may hold, and few enough that int() of hostile
# input stays cheap: a count (3), a Telegram user id (15), an SMS Center message id (18).
COUNT_DIGITS, USER_ID_DIGITS, MESSAGE_ID_DIGITS = 3, 15, 18
_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
# /watch [PERCENT] [MINUTES] (PRODUCT.md §10): the ranges and the defaults.
WATCH_PERCENT = (1, 100, 20)
WATCH_MINUTES = (1, 1440, 15)


class BadArgument(Exception):
    """A command argument is wrong; ``reply`` is the one-line answer (HTML, already escaped)."""

    def __init__(self, reply: str) -> None:
        super().__init__("bad argument")
        self.reply = reply


def split_first(args: str | None) -> tuple[str, str]:
    """``"HEAD REST…"`` → ``("HEAD", "REST…")``, both stripped; missing parts are ``""``."""
    head, _, rest = (args or "").strip().partition(" ")
    return head, rest.strip()


def digits(text: str, max_digits: int) -> int | None:
    """``text`` as a whole number of 1..``max_digits`` ASCII digits, or None.

    ``str.isdigit`` alone accepts "²" and Arabic-Indic digits; ``int()`` alone accepts "+5",
    " 5" and "5_0". Only plain digits are a number here.
    """
    if text.isascii() and text.isdigit() and 0 < len(text) <= max_digits:
        return int(text)
    return None


def count(args: str | None, *, default: int, maximum: int, usage: str) -> int:
    """An optional whole number 1..``maximum`` (``default`` when absent)."""
    text = (args or "").strip()
    if not text:
        return default
    value = digits(text, COUNT_DIGITS)
    if value is None or not 1 <= value <= maximum:
        raise BadArgument(usage)
    return value


def watch_rule(args: str | None, usage: str) -> tuple[int, int]:
    """``/watch [PERCENT] [MINUTES]``: the percent 1–100 (a trailing ``%`` is fine) and the
    minutes 1–1440, each defaulting (20, 15); anything else, or more, is ``BadArgument``."""
    parts = (args or "").split()
    if len(parts) > 2:
        raise BadArgument(usage)
    percent_text = parts[0].removesuffix("%") if parts else None
    minutes_text = parts[1] if len(parts) == 2 else None
    return (
        _within(percent_text, WATCH_PERCENT, usage),
        _within(minutes_text, WATCH_MINUTES, usage),
    )


def _within(text: str | None, bounds: tuple[int, int, int], usage: str) -> int:
    """``text`` as a whole number within ``(low, high, default)``; ``default`` when absent."""
    low, high, default = bounds
    if text is None:
        return default
    value = digits(text, len(str(high)))
    if value is None or not low <= value <= high:
        raise BadArgument(usage)
    return value


def user_id(text: str, usage: str) -> int:
    """A Telegram user id (what ``/whoami`` shows)."""
    value = digits(text, USER_ID_DIGITS)
    if value is None:
        raise BadArgument(usage)
    return value


def message_id(text: str, usage: str) -> int:
    """An SMS Center message id (``/status ID PHONE``)."""
    value = digits(text, MESSAGE_ID_DIGITS)
    if value is None:
        raise BadArgument(usage)
    return value


def account_name(text: str, usage: str) -> str:
    """An account name, a case-insensitive slug (PRODUCT.md §5: names appear in URLs): 1–32
    Latin letters, digits, ``-`` or ``_``, given back in lower case."""
    if not _ACCOUNT_NAME.fullmatch(text):
        raise BadArgument(usage)
    return text.lower()


def key_flaw(apikey: str) -> Text | None:
    """Why ``apikey`` cannot be an SMS Center API key, or None if it can be one.

    SMS Center does not publish its key format, so only what no key can be is refused: spaces
    inside, anything but printable ASCII, more than ``MAX_KEY_LENGTH`` characters.
    """
    if any(ch.isspace() for ch in apikey):
        return texts.NOT_A_KEY_SPACES
    if not (apikey.isascii() and apikey.isprintable()):
        return texts.NOT_A_KEY_CHARACTERS
    if len(apikey) > MAX_KEY_LENGTH:
        return texts.NOT_A_KEY_LENGTH
    return None


def looks_like_key(apikey: str) -> bool:
    """Whether ``apikey`` could be an SMS Center API key (see ``key_flaw``)."""
    return bool(apikey) and key_flaw(apikey) is None


def api_key(text: str, usage: str, lang: Lang) -> str:
    """An SMS Center API key: ``usage`` when there is none, and one line saying why when
    ``text`` cannot be one (checked before SMS Center is asked: refused keys pause key
    checks). The answer never repeats the key."""
    if not text:
        raise BadArgument(usage)
    flaw = key_flaw(text)
    if flaw is not None:
        raise BadArgument(fill_html(texts.NOT_A_KEY(lang), why=Html(flaw(lang))))
    return text


def phone(text: str, command: str, lang: Lang) -> str:
    """A phone number as ``parse_phone`` canonicalises it; ``command`` names the example."""
    try:
        return parse_phone(text)
    except InvalidPhone as exc:
        raise bad_phone(exc, command, lang) from None


# What a refused number is told, by why it was refused; anything else is "not a number".
_REFUSALS: dict[InvalidPhoneReason, Text] = {
    "no_country_code": texts.NO_COUNTRY_CODE,
    "too_short": texts.PHONE_TOO_SHORT,
    "too_long": texts.PHONE_TOO_LONG,
    "two_numbers": texts.PHONE_TWO_NUMBERS,
    "letters": texts.PHONE_LETTERS,
    "invisible": texts.PHONE_INVISIBLE,
    "impossible": texts.PHONE_IMPOSSIBLE,
}


def bad_phone(exc: InvalidPhone, command: str, lang: Lang) -> BadArgument:
    """The refusal of a number, saying why: too short or long, two numbers, letters, invisible
    characters, no such country code, or ten digits that are not Russian (add the country
    code)."""
    line = _REFUSALS.get(exc.reason, texts.BAD_PHONE)
    return BadArgument(fill_html(line(lang), example=commands.example(command)))


def phone_and_count(
    args: str | None, *, default: int, maximum: int, usage: str, lang: Lang
) -> tuple[str, int]:
    """``"PHONE [N]"`` of ``/history`` as ``read_phone_and_count`` reads it: N is the last token
    only when the rest is a number; a text that reads as two different numbers is answered with
    both, and how to write each, instead of a guess."""
    text = (args or "").strip()
    if not text:
        raise BadArgument(usage)
    try:
        reading = read_phone_and_count(text, maximum)
    except InvalidPhone as exc:
        raise bad_phone(exc, "history", lang) from None
    if isinstance(reading, AmbiguousCount):
        raise BadArgument(
            fill_html(
                texts.HISTORY_WHICH(lang),
                count=reading.split.count,
                whole=reading.whole,
                whole_shown=format_phone(reading.whole),
                split=reading.split.phone,
                split_shown=format_phone(reading.split.phone),
            )
        )
    return reading.phone, count(reading.count, default=default, maximum=maximum, usage=usage)
