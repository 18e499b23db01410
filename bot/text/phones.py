"""Parsing and normalising phone numbers as people type them (PRODUCT.md §5).

SMS Center wants a number as digits: country code and national number, no ``+``
(``79991234567``). :func:`parse_phone` turns what a person typed into that form or raises
:class:`InvalidPhone`; :func:`format_phone` turns digits back into a readable
``+7 999 123-45-67``; :func:`looks_like_phone` is a cheap guess whether a bare chat message was
meant as a number at all.

Rules of :func:`parse_phone`, in order:

1. At most 64 characters (checked before anything else touches the text).
2. The invisible marks a phone's or a browser's copy adds around a number are dropped: the
   direction marks and embeddings (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), zero-width
   spaces and joiners (U+200B-U+200D) and the byte order mark (U+FEFF). They are never part of
   a number and never stand for a digit, so dropping them cannot change which number is read.
3. Allowed besides ASCII digits: ASCII whitespace, no-break spaces (U+00A0, U+202F), the
   separators ``( ) - .`` and the Unicode dashes U+2010-U+2015 and U+2212 (word processors turn
   ``-`` into them), and one ``+`` before the first digit. Anything else is refused with the
   reason a person can act on: ``"letters"``, ``"two_numbers"`` (two numbers pasted together,
   separated by a comma, a semicolon, a slash, a new ``+`` or a space between two whole
   numbers), ``"invisible"`` (any other invisible or unusual space character), else
   ``"not_a_number"`` (symbols, non-ASCII digits such as fullwidth or Arabic-Indic ones): a
   look-alike character must never change which number is looked up, so we refuse rather than
   normalise.
4. Which country (the bot serves smsc.ru accounts, so a number typed without ``+`` is read the
   way it is dialled in Russia):
   - a leading ``+``: the digits start with the country code;
   - exactly 10 digits without ``+``: a Russian number without its prefix, ``495 123 45 67`` is
     ``+7 495 123-45-67``. Taken only when it starts with 9 (a mobile) or phonenumbers places
     it in Russia's numbering plan (landlines such as Moscow 495/499 or St Petersburg 812,
     free-phone 800, ...); any other ten digits are refused with reason ``"no_country_code"``
     (the person adds the ``+`` and the country code), never read as another country's number;
   - a leading ``00`` (the international prefix used across Europe) or ``810`` (Russia's
     international prefix, ``8 10 375 ...``): the digits after it start with the country code;
   - 11 digits starting with ``8``: the Russian trunk prefix, ``8 999 ...`` is ``+7 999 ...``
     (someone meaning +81/+82/+84 must type the ``+``);
   - fewer than ten digits: refused as ``"too_short"`` (a Russian number with a digit or two
     missing, ``495 123 45``, is never read as a short foreign one; a foreign number needs
     its ``+``);
   - any other digits: taken as starting with a country code (``79991234567``,
     ``442079460958``).
5. ``phonenumbers`` must call the number possible (its length fits the country's plan; a number
   possible only for local dialling is refused). Validity against allocated ranges is
   deliberately not checked once the country is known: ranges change faster than the library's
   metadata, and a support agent must be able to look up any number SMS Center sent to.
5. The result is phonenumbers' E.164 form without ``+``, 8 to 15 digits. phonenumbers drops a
   national prefix typed after the country code (``+7 8 999 ...``, ``+44 (0) 20 ...``), so the
   result is the number the operator routes to. Any other change it would make (inserting
   digits, as its Argentine and San Marino rules do) is refused: the digits after the country
   code must be the last digits typed. The 8-digit floor refuses only the shortest numbers of a
   few tiny territories (Niue, Tokelau), which SMS traffic of this bot never sees.

So a number never turns into another: the result's digits are the typed digits in order, apart
from the prefix rewrites of rule 4 (``+7`` before ten digits, trunk ``8`` to ``7``, ``00`` or
``810`` dropped) and a national prefix dropped after the country code.

:func:`read_phone_and_count` splits the ``PHONE [N]`` argument of ``/history``, where a count
typed after a number written in groups could also be the number's last group.
"""

from __future__ import annotations

import logging
import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

__all__ = [
    "MAX_DIGITS",
    "MAX_INPUT_LENGTH",
    "MIN_DIGITS",
    "AmbiguousCount",
    "InvalidPhone",
    "InvalidPhoneReason",
    "PhoneAndCount",
    "format_phone",
    "looks_like_phone",
    "parse_phone",
    "phone_in_sentence",
    "read_phone_and_count",
    "without_paste_marks",
]

logger = logging.getLogger(__name__)

#: Longer input is refused before any parsing (nobody types a phone number in 65 characters).
MAX_INPUT_LENGTH: Final = 64
#: Bounds on the digits :func:`parse_phone` returns (E.164 allows at most 15).
MIN_DIGITS: Final = 8
MAX_DIGITS: Final = 15
# Digits of a Russian number after +7 (typed alone, they are read as one: rule 4).
_RUSSIAN_NATIONAL_DIGITS: Final = 10
# A bare chat message is taken for a number with this many digits (a Russian number without
# its prefix has 10; E.164 allows 15).
_LOOKS_MIN_DIGITS: Final = 10
_LOOKS_MAX_DIGITS: Final = 15

InvalidPhoneReason = Literal[
    "empty",
    "too_short",
    "too_long",
    "not_a_number",
    "impossible",
    "no_country_code",
    "letters",
    "two_numbers",
    "invisible",
]

_ASCII_DIGITS: Final = frozenset(string.digits)
_SPACES: Final = frozenset(string.whitespace) | {"\u00a0", "\u202f"}
_DASHES: Final = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_SEPARATORS: Final = _SPACES | _DASHES | frozenset("().-")
_STRIP_CHARS: Final = "".join(sorted(_SPACES))
# Rule 2: invisible marks a copy adds (bidi marks, embeddings and isolates, zero-width spaces
# and joiners, the byte order mark); dropped before anything else reads the text.
_PASTE_MARKS: Final = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
             "\u2066\u2067\u2068\u2069\ufeff")
)  # fmt: skip
# Where one pasted number ends and another begins: a list separator, or a space before a "+".
_LIST_BREAK: Final = re.compile(r"[,;/|\n]|\s(?=[\s(]*\+)")
# Format characters and spaces other than those allowed: nobody types them on purpose.
_INVISIBLE_CATEGORIES: Final = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc", "Co", "Cn"})

_PARSE_ERROR_REASONS: Final[dict[int, InvalidPhoneReason]] = {
    NumberParseException.INVALID_COUNTRY_CODE: "impossible",
    NumberParseException.NOT_A_NUMBER: "not_a_number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    NumberParseException.TOO_SHORT_NSN: "too_short",
    NumberParseException.TOO_LONG: "too_long",
}
_POSSIBILITY_REASONS: Final[dict[int, InvalidPhoneReason]] = {
    ValidationResult.TOO_SHORT: "too_short",
    # Dialable only within its own area: the area code is missing.
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too_short",
    ValidationResult.TOO_LONG: "too_long",
}


class InvalidPhone(ValueError):
    """The text is not a phone number :func:`parse_phone` accepts.

    ``reason`` is one of :data:`InvalidPhoneReason`, for the caller to pick its own words. The
    rejected text is deliberately not part of the message: exceptions get logged, numbers are
    personal data.
    """

    def __init__(self, reason: InvalidPhoneReason) -> None:
        super().__init__(f"invalid phone number: {reason}")
        self.reason: InvalidPhoneReason = reason


def without_paste_marks(text: str) -> str:
    """``text`` without the invisible marks a copy adds (rule 2 of the module docstring)."""
    return text.translate(_PASTE_MARKS)


def _refusal(text: str) -> InvalidPhoneReason | None:
    """Why ``text`` cannot be one number by its characters, most useful reason first (rule 3),
    or None when its characters are allowed."""
    odd = [char for char in text if char not in _ASCII_DIGITS and char not in _SEPARATORS]
    if any(unicodedata.category(char).startswith("L") for char in odd):
        return "letters"
    pieces = _LIST_BREAK.split(text)
    if sum(_digit_count(piece) >= MIN_DIGITS for piece in pieces) >= 2:
        return "two_numbers"
    if sum(_digit_count(token) >= _LOOKS_MIN_DIGITS for token in text.split()) >= 2:
        return "two_numbers"
    if any(unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in odd):
        return "invisible"
    return None


def _digit_count(text: str) -> int:
    return sum(char in _ASCII_DIGITS for char in text)


def _digits_of(text: str) -> tuple[bool, str]:
    """Split ``text`` into (had a leading ``+``, its ASCII digits); refuse other characters."""
    reason = _refusal(text)
    if reason is not None:
        raise InvalidPhone(reason)
    has_plus = False
    digits: list[str] = []
    for char in text:
        if char in _ASCII_DIGITS:
            digits.append(char)
        elif char == "+" and not has_plus and not digits:
            has_plus = True
        elif char not in _SEPARATORS:
            raise InvalidPhone("not_a_number")
    return has_plus, "".join(digits)


def _international(has_plus: bool, digits: str) -> str:
    """The digits with the country code first, by rule 4 of the module docstring."""
    if has_plus:
        return digits
    if len(digits) == _RUSSIAN_NATIONAL_DIGITS:
        return _russian(digits)
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("810"):
        return digits[3:]
    if len(digits) == 11 and digits.startswith("8"):
        return "7" + digits[1:]
    if len(digits) < _RUSSIAN_NATIONAL_DIGITS:
        # A Russian number missing digits, never some small country's: that needs its "+".
        raise InvalidPhone("too_short")
    return digits


def _russian(national: str) -> str:
    """Ten digits typed without a country code, as a Russian number, or ``no_country_code``.

    Without a country code the country is a guess; it is made only where Russia's numbering
    plan has the number, so that a foreign number missing its ``+`` (or a Russian one missing
    a digit) is refused instead of looked up as somebody else's.
    """
    candidate = "7" + national
    if national.startswith("9"):
        return candidate  # Russian mobiles: every 9xx code is Russia's, ranges or not
    if phonenumbers.is_valid_number_for_region(phonenumbers.parse("+" + candidate), "RU"):
        return candidate
    raise InvalidPhone("no_country_code")


def parse_phone(text: str) -> str:
    """The number in ``text`` as SMS Center expects it: ASCII digits, country code first, no ``+``.

    ``"+7 (999) 123-45-67"``, ``"8 999 123-45-67"`` and ``"9991234567"`` all give
    ``"79991234567"``; the result always has :data:`MIN_DIGITS` to :data:`MAX_DIGITS` digits.
    Raises :class:`InvalidPhone` (and nothing else) when the text is not such a number; the
    rules are in the module docstring.
    """
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidPhone("too_long")
    stripped = without_paste_marks(text).strip(_STRIP_CHARS)
    if not stripped:
        raise InvalidPhone("empty")
    has_plus, digits = _digits_of(stripped)
    if not digits:
        raise InvalidPhone("not_a_number")
    candidate = _international(has_plus, digits)
    # Cheap bounds first; the +2 leaves room for a national prefix typed after the country
    # code, which phonenumbers removes.
    if len(candidate) < MIN_DIGITS:
        raise InvalidPhone("too_short")
    if len(candidate) > MAX_DIGITS + 2:
        raise InvalidPhone("too_long")
    if candidate.startswith("0"):
        raise InvalidPhone("impossible")  # no country code starts with 0
    try:
        number = phonenumbers.parse("+" + candidate, None)
    except NumberParseException as exc:
        raise InvalidPhone(_PARSE_ERROR_REASONS.get(exc.error_type, "impossible")) from None
    possibility = phonenumbers.is_possible_number_with_reason(number)
    if possibility != ValidationResult.IS_POSSIBLE:
        raise InvalidPhone(_POSSIBILITY_REASONS.get(possibility, "impossible"))
    result = phonenumbers.format_number(number, PhoneNumberFormat.E164).removeprefix("+")
    if not (result.isascii() and result.isdigit()):
        raise InvalidPhone("impossible")
    # Rule 6: phonenumbers may drop a national prefix after the country code, nothing else.
    country_code = str(number.country_code)
    if not (
        result.startswith(country_code)
        and candidate.startswith(country_code)
        and candidate[len(country_code) :].endswith(result[len(country_code) :])
    ):
        raise InvalidPhone("impossible")
    if len(result) < MIN_DIGITS:
        raise InvalidPhone("too_short")
    if len(result) > MAX_DIGITS:
        raise InvalidPhone("too_long")
    # A number is what it reads as again: a national prefix left after the country code once
    # one was dropped ("31 0 0…" from "310 0 0…") would be dropped again, and the number shown
    # would turn into another. No real number does that; refuse it rather than guess.
    if _again(result) != result:
        raise InvalidPhone("impossible")
    return result


def _again(digits: str) -> str:
    """``digits`` read once more by phonenumbers (E.164 without ``+``; ``""`` if unreadable)."""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except NumberParseException:
        return ""
    return phonenumbers.format_number(number, PhoneNumberFormat.E164).removeprefix("+")


@dataclass(frozen=True, slots=True)
class PhoneAndCount:
    """One reading of ``PHONE [N]``: the number as :func:`parse_phone` returns it, and the
    count exactly as typed (``""`` when none was), for the caller to check against its range."""

    phone: str
    count: str = ""


@dataclass(frozen=True, slots=True)
class AmbiguousCount:
    """``PHONE N`` that reads two ways: ``whole`` is the whole text as one number, ``split`` the
    text without its last group as the number and that group as the count."""

    whole: str
    split: PhoneAndCount


def read_phone_and_count(text: str, max_count: int) -> PhoneAndCount | AmbiguousCount:
    """Split the argument ``PHONE [N]`` (``/history``) into a number and an optional count.

    Two readings: the whole text as the number, or the text before its last space as the
    number and the last token as the count. A reading counts only when :func:`parse_phone`
    accepts its number, so a number typed in groups (``+375 29 123 45 67``) never loses its
    last group to the count, nor gains the count as a digit. When both readings count and the
    last token is a count of 1 to ``max_count``:

    - a reading whose number phonenumbers calls valid (in an allocated range) wins over one
      merely possible (``+375 29 123 45 67 3``: +375 2912345673 has too many digits for a
      Belarusian mobile, so 3 is the count);
    - a number typed as one block, then a space and a count (``+49301234567 8``), is read
      that way: nobody groups a number like that;
    - otherwise (``+49 30 1234567 8``: Berlin numbers have 7 or 8 digits) the result is
      :class:`AmbiguousCount`, for the person to say which. ``+`` and the number's digits
      without spaces always mean the whole text; the split reading's digits without spaces, a
      space and the count always mean the split.

    When only the split reading's number is accepted, its count is returned as typed even if
    it is not a count (the caller refuses it with its usage). Raises :class:`InvalidPhone` when
    neither reading's number is accepted: with reason ``"no_country_code"`` when the number
    before the count was refused for that (the more useful hint), else with the whole text's.
    """
    stripped = without_paste_marks(text).strip(_STRIP_CHARS)
    whole: str | None = None
    whole_error = InvalidPhone("not_a_number")
    try:
        whole = parse_phone(stripped)
    except InvalidPhone as exc:
        whole_error = exc
    head, _, tail = stripped.rpartition(" ")
    head = head.rstrip(_STRIP_CHARS)
    split: str | None = None
    split_error: InvalidPhone | None = None
    if head:
        try:
            split = parse_phone(head)
        except InvalidPhone as exc:
            split_error = exc
    if whole is None:
        if split is not None:
            return PhoneAndCount(split, tail)
        if split_error is not None and split_error.reason == "no_country_code":
            raise split_error
        raise whole_error
    if split is None or not _is_count(tail, max_count):
        return PhoneAndCount(whole)
    whole_valid, split_valid = _is_valid(whole), _is_valid(split)
    if whole_valid and not split_valid:
        return PhoneAndCount(whole)
    if split_valid and not whole_valid:
        return PhoneAndCount(split, tail)
    if not any(char in _SPACES for char in head):
        return PhoneAndCount(split, tail)
    return AmbiguousCount(whole, PhoneAndCount(split, tail))


def _is_valid(digits: str) -> bool:
    """Whether phonenumbers places ``digits`` (as :func:`parse_phone` returns) in an allocated
    range; used only to choose between two readings, never to refuse a number."""
    return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits))


def _is_count(text: str, max_count: int) -> bool:
    """Whether ``text`` is a whole number 1..``max_count`` in ASCII digits."""
    return (
        text.isascii()
        and text.isdigit()
        and len(text) <= len(str(max_count))
        and 1 <= int(text) <= max_count
    )


def looks_like_phone(text: str) -> bool:
    """Whether a bare chat message was probably meant as a phone number; never raises.

    True for text of at most :data:`MAX_INPUT_LENGTH` characters made of digits, spaces,
    ``+ ( ) - .`` and dashes with 10 to 15 digits. Unlike :func:`parse_phone` it counts digits
    of any script and tolerates invisible formatting characters, so that a number pasted with a
    stray direction mark still reaches :func:`parse_phone` and gets its explanation instead of
    silence. It says nothing about whether the number is valid.
    """
    if len(text) > MAX_INPUT_LENGTH:
        return False
    digit_count = 0
    for char in text:
        if char.isdecimal():
            digit_count += 1
        elif char in _SEPARATORS or char == "+" or _is_invisible(char):
            continue
        else:
            return False
    return _LOOKS_MIN_DIGITS <= digit_count <= _LOOKS_MAX_DIGITS


# A stretch of a sentence that may hold a number: digits with the separators people type.
_RUN: Final = re.compile(r"\+?\(?[0-9][0-9 ().\-\u00a0\u202f\u2010-\u2015\u2212]*[0-9]")
# A stretch of more groups than this is a list of figures, not a number.
_RUN_MAX_GROUPS: Final = 12


def phone_in_sentence(text: str) -> str | None:
    """The one phone number mentioned in a sentence, as :func:`parse_phone` returns it.

    ``"клиент 79031112233 не получил код"`` gives ``"79031112233"``. A mention is a stretch of
    digits and separators holding 10 to 15 digits that :func:`parse_phone` accepts as it stands
    (the widest run of its space-separated groups from the left, so "код 1234 79031112233"
    still finds the number). None when the text mentions no number, more than one, or digits
    that read as different numbers depending on where the number ends: then there is nothing
    to offer, or nothing to choose without guessing. Never raises.
    """
    found: set[str] = set()
    for match in _RUN.finditer(without_paste_marks(text)):
        for readings in _numbers_in_run(match.group()):
            if len(readings) > 1:
                return None  # "8 800 555 35 35 12": which digits are the number is a guess
            found |= readings
    return found.pop() if len(found) == 1 else None


def _numbers_in_run(run: str) -> list[set[str]]:
    """The numbers in a stretch, read from the left: at each place, every reading of its
    groups that :func:`parse_phone` accepts (more than one: the place is ambiguous); the next
    place starts after the widest."""
    groups = run.split()
    if len(groups) > _RUN_MAX_GROUPS:
        return []
    places: list[set[str]] = []
    start = 0
    while start < len(groups):
        readings: set[str] = set()
        widest = 0
        for end in range(len(groups), start, -1):
            candidate = " ".join(groups[start:end])
            if not _LOOKS_MIN_DIGITS <= _digit_count(candidate) <= _LOOKS_MAX_DIGITS:
                continue
            try:
                readings.add(parse_phone(candidate))
            except InvalidPhone:
                continue
            widest = max(widest, end)
        if readings:
            places.append(readings)
            start = widest
        else:
            start += 1
    return places


def _is_invisible(char: str) -> bool:
    # Unicode "format" characters: zero-width spaces and joiners, direction marks, BOM.
    return unicodedata.category(char) == "Cf"


def format_phone(digits: str) -> str:
    """``digits`` (as :func:`parse_phone` returns, a leading ``+`` tolerated) for people to read.

    ``"79991234567"`` gives ``"+7 999 123-45-67"`` (phonenumbers' international format). Digits
    phonenumbers cannot place fall back to ``"+" + digits``; anything that is not digits at all
    (an empty or odd ``phone`` field from SMS Center) is returned unchanged. Never raises.
    """
    bare = digits.removeprefix("+")
    if not (bare.isascii() and bare.isdigit()):
        return digits
    if len(bare) > MAX_DIGITS:
        return "+" + bare
    try:
        number = phonenumbers.parse("+" + bare, None)
    except NumberParseException:
        return "+" + bare
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    # Formatting must never change the number shown; if it would, show the plain digits.
    if "".join(c for c in formatted if c in _ASCII_DIGITS) != bare:
        logger.debug("phonenumbers reformatted a number; showing plain digits")
        return "+" + bare
    return formatted
