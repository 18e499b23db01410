"""Text from SMS Center made safe and short for a Telegram HTML answer.

Everything SMS Center sends (text, sender, operator, region, country, status name, phone) is
cleaned (lone surrogates, control and bidi-override characters), shortened *before* it is
escaped (so no half entity such as ``&am`` is ever left), then escaped with
``html.escape(..., quote=False)``. In group chats one-time codes in message texts are masked.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Final

from bot.text.phones import format_phone
from bot.text.phrases import Lang
from bot.text.view import View

__all__ = [
    "ELLIPSIS",
    "NONE",
    "clean",
    "display_phone",
    "escape",
    "field",
    "foreign_country",
    "mask_codes",
    "message_text",
    "money",
    "number",
    "shorten",
]

#: What an answer shows for a value that is missing or cannot be shown.
NONE: Final = "—"
ELLIPSIS: Final = "…"

FIELD_LIMIT: Final = 60  # operator, region, country, sender, status name, comment
_PHONE_LIMIT: Final = 32

# Country names SMS Center uses for Russia (in the account's language): not worth a line.
_HOME_COUNTRIES: Final = frozenset({"россия", "russia", "russian federation", "рф"})

# A digit run of one-time-code length: 4–8 ASCII digits, not part of a longer digit run (phone
# numbers have 9+ digits).
_CODE = re.compile(r"(?<![0-9])[0-9]{4,8}(?![0-9])")
# Words that say a nearby digit run is a code (stems, any case): код, пароль, PIN, code, OTP…
_CODE_WORDS = re.compile(
    r"код|парол|пин|одноразов|подтвер|code|passw|pin\b|otp|verif|token|токен", re.IGNORECASE
)
# Words that say the run right after them is a reference, not a secret: order, invoice, track.
_REFERENCE_WORDS = re.compile(
    r"(заказ\w*|счёт\w*|счет\w*|трек\w*|договор\w*|order|invoice|track\w*|ref\w*)"
    r"\W{0,3}$",
    re.IGNORECASE,
)
# How far (characters) a code word may stand before or after the run it vouches for.
_WORDS_BEFORE, _WORDS_AFTER = 40, 30
# What may stand right before and after a standalone run (a token of its own).
_OPENERS = frozenset(" \t\n(«\"'':")
_CLOSERS = frozenset(" \t\n.,;:!?)»\"''")
# After a run: a decimal part, a currency or a percent make it an amount.
_AMOUNT_AFTER = re.compile(r"[.,][0-9]|\s?(руб|р\.|₽|rub|usd|eur|\$|€|%|тг|₸)", re.IGNORECASE)

# JSON may carry lone surrogates ("\ud800"), which cannot be encoded for Telegram at all.
_SURROGATES = re.compile("[\ud800-\udfff]")
# C0/C1 controls except tab and newline: Telegram may refuse or mangle them.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates: left in, they would reorder our own labels on the
# same line (a sender id could make "delivered" read backwards). Plain marks (LRM/RLM) stay.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SPACE_RUNS = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


def mask_codes(text: str) -> str:
    """``text`` with every run that looks like a one-time code replaced by as many ``•``.

    A candidate is a run of 4–8 ASCII digits not part of a longer digit run (phone numbers,
    with 9+ digits, and short numbers stay readable; non-ASCII digits are left alone). It is
    masked when a code word (код, пароль, PIN, code, password, OTP, подтверждение, …) stands
    within a few words of it, whatever surrounds it (``G-482913 is your code``,
    ``?code=482913``); or when it stands on its own (a token by itself, not after a letter,
    ``-``, ``/``, ``#``, ``№`` or ``.``) and is not an amount (a decimal part, a currency or
    ``%`` after it) nor a reference (right after order/заказ, invoice/счёт, track/трек). So
    order numbers inside words, link paths, amounts and dates stay readable.
    """
    return _CODE.sub(
        lambda match: "•" * len(match.group()) if _looks_like_code(text, match) else match.group(),
        text,
    )


def _looks_like_code(text: str, match: re.Match[str]) -> bool:
    start, end = match.span()
    before = text[max(0, start - _WORDS_BEFORE) : start]
    after = text[end : end + _WORDS_AFTER]
    # Only the run's own line: a code word on another line speaks of another run.
    before, after = before.rsplit("\n", 1)[-1], after.split("\n", 1)[0]
    if _CODE_WORDS.search(before) or _CODE_WORDS.search(after):
        return True
    opened = start == 0 or text[start - 1] in _OPENERS
    closed = end == len(text) or text[end] in _CLOSERS
    if not (opened and closed):
        return False
    return not (_AMOUNT_AFTER.match(text, end) or _REFERENCE_WORDS.search(before))


def clean(text: str, *, one_line: bool) -> str:
    """SMS Center's text made safe to show: no lone surrogates, controls or bidi overrides.

    ``one_line`` folds every run of white space into one space; otherwise lines are kept,
    trailing spaces dropped and blank runs folded into one blank line.
    """
    text = _SURROGATES.sub("\ufffd", text).replace("\r\n", "\n")
    text = _BIDI_CONTROLS.sub("", _CONTROLS.sub(" ", text))
    if one_line:
        return _SPACE_RUNS.sub(" ", text).strip()
    # Line by line, not one clever regex: backtracking over long blank runs would be quadratic.
    lines = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip()


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in "…" when cut (applied before escaping)."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def escape(text: str) -> str:
    """``text`` safe inside Telegram HTML: ``&``, ``<`` and ``>`` as entities."""
    return html.escape(text, quote=False)


def field(text: str, limit: int = FIELD_LIMIT) -> str:
    """A one-line field from SMS Center (sender, operator, …), cleaned, shortened, escaped."""
    return escape(shorten(clean(text, one_line=True), limit))


def message_text(text: str, view: View, limit: int, *, one_line: bool) -> str:
    """A message text: cleaned, codes masked in groups, shortened, then escaped."""
    text = clean(text, one_line=one_line)
    if view.mask_codes:
        text = mask_codes(text)  # before shortening: a cut must not leave half a code visible
    return escape(shorten(text, limit))


def display_phone(value: str) -> str:
    """A phone number from SMS Center as people read it, escaped; "—" when empty."""
    shown = field(format_phone(clean(value, one_line=True)), _PHONE_LIMIT)
    return shown or NONE


def foreign_country(country: str) -> str:
    """The country, unless it is Russia (nearly every number an smsc.ru account sends to)."""
    shown = clean(country, one_line=True)
    return "" if shown.casefold() in _HOME_COUNTRIES else field(shown)


def number(value: int | None) -> str:
    """An id or count from SMS Center; "—" when missing, "…" when absurdly long."""
    if value is None:
        return NONE
    # str() of a huge int is slow and, past 4300 digits, refused; no real id is that long.
    return str(value) if value.bit_length() <= 128 else ELLIPSIS


def money(value: Decimal, lang: Lang) -> str:
    """An amount of money as SMS Center gave it (a message's cost, an account's balance), with
    a decimal comma in Russian, at most 20 characters.

    No currency: neither the history's ``cost`` nor ``balance.php`` (asked without ``cur=1``)
    says which currency the account keeps, and guessing roubles would be wrong for smsc.kz or
    smscentre.com accounts.
    """
    shown = shorten(f"{value:f}", 20)
    return escape(shown.replace(".", ",") if lang is Lang.RU else shown)
