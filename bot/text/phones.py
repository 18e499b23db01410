"""Parsing and normalising phone numbers as people type them (PRODUCT.md §5).

SMS Center wants a number as digits: country code and national number, no ``+``
(``79991234567``). :func:`parse_phone` turns what a person typed into that form or raises
:class:`InvalidPhone`; :func:`format_phone` turns digits back into a readable
``+7 999 123-45-67``; :func:`looks_like_phone` is a cheap guess whether a bare chat message was
meant as a number at all.

Rules of :func:`parse_phone`, in order:

1. At most 64 characters (checked before anything else touches the text).
2. Allowed besides ASCII digits: ASCII whitespace, no-break spaces (U+00A0, U+202F), the
   separators ``( ) - .`` and the Unicode dashes U+2010-U+2015 and U+2212 (word processors turn
   ``-`` into them), and one ``+`` before the first digit. Anything else is refused, in
   particular letters, zero-width characters, direction marks and non-ASCII digits (fullwidth,
   Arabic-Indic, ...): an invisible or look-alike character must never change which number is
   looked up, so we refuse rather than normalise.
3. Which country:
   - a leading ``+`` (or ``00``, the international prefix used across Europe): the digits
     start with the country code;
   - 11 digits starting with ``8``: the Russian trunk prefix, ``8 999 ...`` is ``+7 999 ...``
     (the bot serves smsc.ru accounts; someone meaning +81/+82/+84 must type the ``+``);
   - 10 digits starting with ``9``: a Russian mobile without the prefix, ``999 ...`` is
     ``+7 999 ...`` (a 10-digit +95/+960/+961 number must be typed with ``+``);
   - any other digits: taken as starting with a country code (``79991234567``,
     ``442079460958``).
4. ``phonenumbers`` must call the number possible (its length fits the country's plan; a number
   possible only for local dialling is refused). Validity against allocated ranges is
   deliberately not checked: ranges change faster than the library's metadata, and a support
   agent must be able to look up any number SMS Center sent to.
5. The result is phonenumbers' E.164 form without ``+``, 8 to 15 digits. phonenumbers drops a
   national prefix typed after the country code (``+7 8 999 ...``, ``+44 (0) 20 ...``), so the
   result is the number the operator routes to. The 8-digit floor refuses only the shortest
   numbers of a few tiny territories (Niue, Tokelau), which SMS traffic of this bot never sees.
"""

from __future__ import annotations

import logging
import string
import unicodedata
from typing import Final, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

__all__ = [
    "MAX_DIGITS",
    "MAX_INPUT_LENGTH",
    "MIN_DIGITS",
    "InvalidPhone",
    "InvalidPhoneReason",
    "format_phone",
    "looks_like_phone",
    "parse_phone",
]

logger = logging.getLogger(__name__)

#: Longer input is refused before any parsing (nobody types a phone number in 65 characters).
MAX_INPUT_LENGTH: Final = 64
#: Bounds on the digits :func:`parse_phone` returns (E.164 allows at most 15).
MIN_DIGITS: Final = 8
MAX_DIGITS: Final = 15
# A bare chat message is taken for a number with this many digits (a Russian number without
# its prefix has 10; E.164 allows 15).
_LOOKS_MIN_DIGITS: Final = 10
_LOOKS_MAX_DIGITS: Final = 15

InvalidPhoneReason = Literal["empty", "too_short", "too_long", "not_a_number", "impossible"]

_ASCII_DIGITS: Final = frozenset(string.digits)
_SPACES: Final = frozenset(string.whitespace) | {"\u00a0", "\u202f"}
_DASHES: Final = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_SEPARATORS: Final = _SPACES | _DASHES | frozenset("().-")
_STRIP_CHARS: Final = "".join(sorted(_SPACES))

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


def _digits_of(text: str) -> tuple[bool, str]:
    """Split ``text`` into (had a leading ``+``, its ASCII digits); refuse other characters."""
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
    """The digits with the country code first, by the rules in the module docstring."""
    if has_plus:
        return digits
    if digits.startswith("00"):
        return digits[2:]
    if len(digits) == 11 and digits.startswith("8"):
        return "7" + digits[1:]
    if len(digits) == 10 and digits.startswith("9"):
        return "7" + digits
    return digits


def parse_phone(text: str) -> str:
    """The number in ``text`` as SMS Center expects it: ASCII digits, country code first, no ``+``.

    ``"+7 (999) 123-45-67"``, ``"8 999 123-45-67"`` and ``"9991234567"`` all give
    ``"79991234567"``; the result always has :data:`MIN_DIGITS` to :data:`MAX_DIGITS` digits.
    Raises :class:`InvalidPhone` (and nothing else) when the text is not such a number; the
    rules are in the module docstring.
    """
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidPhone("too_long")
    stripped = text.strip(_STRIP_CHARS)
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
    # phonenumbers only ever shortens what it was given, but the promise to callers is ours.
    if not (result.isascii() and result.isdigit()):
        raise InvalidPhone("impossible")
    if len(result) < MIN_DIGITS:
        raise InvalidPhone("too_short")
    if len(result) > MAX_DIGITS:
        raise InvalidPhone("too_long")
    return result


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
