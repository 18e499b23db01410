"""Phone parsing: the formats of PRODUCT.md §5, the refusals, and properties over any text."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.text import (
    MAX_DIGITS,
    MAX_INPUT_LENGTH,
    MIN_DIGITS,
    InvalidPhone,
    format_phone,
    looks_like_phone,
    parse_phone,
)

ACCEPTED = [
    # PRODUCT.md §5, Russian forms
    ("79991234567", "79991234567"),
    ("+79991234567", "79991234567"),
    ("+7 (999) 123-45-67", "79991234567"),
    ("+7 999 123 45 67", "79991234567"),
    ("+7.999.123.45.67", "79991234567"),
    ("8 999 123-45-67", "79991234567"),
    ("89991234567", "79991234567"),
    ("8 (495) 123-45-67", "74951234567"),
    ("9991234567", "79991234567"),
    ("999 123 45 67", "79991234567"),
    # surrounding and inner spaces people paste
    ("  +7 999 123 45 67\n", "79991234567"),
    ("+7\u00a0999\u00a0123\u00a045\u00a067", "79991234567"),
    ("+7\t999\t1234567", "79991234567"),
    ("+7 999 123\u201345\u201367", "79991234567"),  # en dashes from a word processor
    # a national prefix typed after the country code is dropped
    ("+7 8 999 123 45 67", "79991234567"),
    ("+44 (0) 20 7946 0958", "442079460958"),
    # international with +
    ("+44 20 7946 0958", "442079460958"),
    ("+380 44 123 4567", "380441234567"),
    ("+1 212 555 0100", "12125550100"),
    ("+1 (212) 555-0100", "12125550100"),
    ("+39 06 1234 5678", "390612345678"),  # Italian leading zero is part of the number
    ("+81 3-1234-5678", "81312345678"),
    # international with 00 instead of +
    ("00 44 20 7946 0958", "442079460958"),
    ("0079991234567", "79991234567"),
    # digits only, country code first
    ("442079460958", "442079460958"),
    ("380441234567", "380441234567"),
    ("12125550100", "12125550100"),
]

REJECTED = [
    ("", "empty"),
    ("   ", "empty"),
    ("\u00a0\n", "empty"),
    ("()-", "not_a_number"),
    ("+", "not_a_number"),
    ("12", "too_short"),
    ("1234567", "too_short"),
    ("+0 123", "too_short"),
    ("+0 999 123 45 67", "impossible"),  # no country code starts with 0
    ("02079460958", "impossible"),  # a UK number in national form: no country code
    ("+999 123 456 789", "impossible"),  # 999 is not a country code
    ("+8 999 123 45 67", "impossible"),  # trunk 8 is not a country code after +
    ("+7999", "too_short"),
    ("+7 999 123 45", "too_short"),
    ("+1 234 5678", "too_short"),  # dialable only locally: area code missing
    ("+7 999 123 45 67 890", "impossible"),
    ("1234567890123456789", "too_long"),
    ("7" * 40, "too_long"),
    ("7" * (MAX_INPUT_LENGTH + 1), "too_long"),
    ("abc", "not_a_number"),
    ("tel:+79991234567", "not_a_number"),
    ("call +79991234567 please", "not_a_number"),
    ("+7 999 123 45 67 доб. 12", "not_a_number"),
    ("+7 999 123-45-67, +7 999 765-43-21", "not_a_number"),
    ("+1 800 FLOWERS", "not_a_number"),  # letters are refused, not keypad-mapped
    ("7+9991234567", "not_a_number"),  # + only before the first digit
    ("++79991234567", "not_a_number"),
    ("+7 999 123 45 67;ext=5", "not_a_number"),
    # odd Unicode: refused, never normalised into some other number
    ("+7999\u200b1234567", "not_a_number"),  # zero-width space
    ("\u200f+79991234567", "not_a_number"),  # right-to-left mark
    ("+79991234567\ufeff", "not_a_number"),  # byte order mark
    ("+７９９９１２３４５６７", "not_a_number"),  # fullwidth digits
    ("+٧٩٩٩١٢٣٤٥٦٧", "not_a_number"),  # Arabic-Indic digits
    ("+7 999 123\u300045 67", "not_a_number"),  # ideographic space
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_parse_phone_accepts_typed_formats(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


@pytest.mark.parametrize(("text", "reason"), REJECTED)
def test_parse_phone_rejects_with_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        parse_phone(text)
    assert caught.value.reason == reason


def test_invalid_phone_is_a_value_error_without_the_number_in_its_message() -> None:
    with pytest.raises(ValueError, match="invalid phone number: not_a_number") as caught:
        parse_phone("call 79991234567")
    assert "7999" not in str(caught.value)


def test_russian_trunk_rule_wins_over_other_countries_without_plus() -> None:
    # 11 digits starting with 8 are read as Russian; a Japanese number needs its +.
    assert parse_phone("81312345678") == "71312345678"
    assert parse_phone("+81312345678") == "81312345678"


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("79991234567", "+7 999 123-45-67"),
        ("+79991234567", "+7 999 123-45-67"),
        ("442079460958", "+44 20 7946 0958"),
        ("380441234567", "+380 44 123 4567"),
        ("12125550100", "+1 212-555-0100"),
        ("390612345678", "+39 06 1234 5678"),
    ],
)
def test_format_phone_uses_international_format(digits: str, expected: str) -> None:
    assert format_phone(digits) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0123", "+0123"),  # no country code: plain digits
        ("99912345", "+99912345"),  # 999 is not a country code
        ("4402079460958", "+4402079460958"),  # phonenumbers would drop the 0: keep as stored
        ("1" * 20, "+" + "1" * 20),
        ("", ""),
        ("+", "+"),
        ("unknown", "unknown"),
        ("７９９９１２３４５６７", "７９９９１２３４５６７"),
    ],
)
def test_format_phone_falls_back_without_changing_the_number(value: str, expected: str) -> None:
    assert format_phone(value) == expected


@pytest.mark.parametrize(
    "text",
    [
        "79991234567",
        "9991234567",
        "+7 (999) 123-45-67",
        "8 999 123-45-67",
        " +44 20 7946 0958 ",
        "+380 44 123 4567",
        "+7999\u200b1234567",  # still looks like one: parse_phone explains the refusal
        "+７９９９１２３４５６７",
    ],
)
def test_looks_like_phone_true(text: str) -> None:
    assert looks_like_phone(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "/last 79991234567",
        "my number is 79991234567",
        "123456789",  # 9 digits
        "1234567890123456",  # 16 digits
        "12:30 79991234567",
        "7" * 12 + " " * (MAX_INPUT_LENGTH - 11),
    ],
)
def test_looks_like_phone_false(text: str) -> None:
    assert not looks_like_phone(text)


# --- properties -------------------------------------------------------------------------------

_PHONEISH = st.text(alphabet="0123456789 +()-.\u00a0\u2013", max_size=30)
_PLUS_DIGITS = st.from_regex(r"\A\+?[1-9][0-9]{6,15}\Z")


def _example_numbers() -> list[str]:
    examples: list[str] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                examples.append(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))
    return examples


_EXAMPLES = _example_numbers()


def _parse_or_none(text: str) -> str | None:
    try:
        return parse_phone(text)
    except InvalidPhone:
        return None


@given(st.one_of(st.text(max_size=80), _PHONEISH, _PLUS_DIGITS, st.sampled_from(_EXAMPLES)))
@example("+79991234567")
@example("\x00")
@example("+" * 70)
def test_parse_phone_returns_ascii_digits_or_raises_invalid_phone(text: str) -> None:
    result = _parse_or_none(text)
    if result is not None:
        assert result.isascii()
        assert result.isdigit()
        assert MIN_DIGITS <= len(result) <= MAX_DIGITS
        assert not result.startswith("0")


@given(st.one_of(st.text(max_size=80), _PHONEISH, _PLUS_DIGITS, st.sampled_from(_EXAMPLES)))
def test_looks_like_phone_never_raises(text: str) -> None:
    assert looks_like_phone(text) in (True, False)


@given(st.one_of(_PHONEISH, _PLUS_DIGITS, st.sampled_from(_EXAMPLES)))
def test_format_then_parse_gives_the_same_digits(text: str) -> None:
    digits = _parse_or_none(text)
    if digits is not None:
        assert parse_phone(format_phone(digits)) == digits


@given(st.text(max_size=80))
def test_format_phone_never_raises(text: str) -> None:
    assert isinstance(format_phone(text), str)


def test_every_example_number_with_plus_parses_to_its_own_digits() -> None:
    # phonenumbers' own example numbers of every region, as a person would type them with +.
    # A handful are 7 digits long (Tokelau, Niue), below MIN_DIGITS by design.
    parsed = 0
    for text in _EXAMPLES:
        digits = "".join(c for c in text if c.isdigit())
        if len(digits) < MIN_DIGITS:
            continue
        assert parse_phone(text) == digits, text
        parsed += 1
    assert parsed > 400
