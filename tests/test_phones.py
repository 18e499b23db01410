"""Phone parsing: the formats of PRODUCT.md §5, the refusals, /history's ``PHONE [N]``, and
properties over any text: a parsed number's digits are the typed ones, and ten digits are never
another country's number."""

from __future__ import annotations

import string

import phonenumbers
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.text import (
    MAX_DIGITS,
    MAX_INPUT_LENGTH,
    MIN_DIGITS,
    AmbiguousCount,
    InvalidPhone,
    PhoneAndCount,
    format_phone,
    looks_like_phone,
    parse_phone,
    phone_in_sentence,
    read_phone_and_count,
)

ACCEPTED = [
    # invisible marks a phone's copy adds are dropped (issue 15, item 9)
    ("+7999\u200b1234567", "79991234567"),  # zero-width space
    ("\u200f+79991234567", "79991234567"),  # right-to-left mark
    ("+79991234567\ufeff", "79991234567"),  # byte order mark
    ("\u202a+7 (999) 123-45-67\u202c", "79991234567"),  # embedding, as Android copies
    ("\u2068+7\u00a0999\u00a0123\u201145\u201167\u2069", "79991234567"),  # isolate, NBSP
    ("8\u200d999\u200c1234567", "79991234567"),  # joiners
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
    # fewer than ten digits without "+": a Russian number missing digits, not a foreign one
    ("495 123 45", "too_short"),  # was read as +49 5123 45
    ("903 111 22 3", "too_short"),
    ("375291234", "too_short"),
    ("+7 999 123 45", "too_short"),
    ("+1 234 5678", "too_short"),  # dialable only locally: area code missing
    ("+7 999 123 45 67 890", "impossible"),
    ("1234567890123456789", "too_long"),
    ("7" * 40, "too_long"),
    ("7" * (MAX_INPUT_LENGTH + 1), "too_long"),
    ("abc", "letters"),
    ("tel:+79991234567", "letters"),
    ("call +79991234567 please", "letters"),
    ("+7 999 123 45 67 доб. 12", "letters"),
    ("+1 800 FLOWERS", "letters"),  # letters are refused, not keypad-mapped
    ("+7 999 123-45-67, +7 999 765-43-21", "two_numbers"),
    ("+7 999 123-45-67; 8 999 765-43-21", "two_numbers"),
    ("79991234567 79997654321", "two_numbers"),
    ("+7 999 123 45 67 +7 999 765 43 21", "two_numbers"),
    ("+7 999 123 45 67 / +44 20 7946 0958", "two_numbers"),
    ("7+9991234567", "not_a_number"),  # + only before the first digit
    ("++79991234567", "not_a_number"),
    ("+7 999 123 45 67;ext=5", "letters"),
    # odd Unicode: refused, never normalised into some other number
    ("+7999\u20601234567", "invisible"),  # word joiner: not one of the marks a copy adds
    ("+7999\u00ad1234567", "invisible"),  # soft hyphen
    ("+7 999 123\u300045 67", "invisible"),  # ideographic space
    ("+７９９９１２３４５６７", "not_a_number"),  # fullwidth digits
    ("+٧٩٩٩١٢٣٤٥٦٧", "not_a_number"),  # Arabic-Indic digits
    ("+7 999 123 45 67 ☎", "not_a_number"),
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
    with pytest.raises(ValueError, match="invalid phone number: letters") as caught:
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
@example("+7 999 123-45-67")
@example("(495) 123.45.67")
def test_every_number_parse_phone_accepts_with_10_to_15_digits_looks_like_one(text: str) -> None:
    # A bare message holding a number the bot would look up is never ignored as chat.
    if _parse_or_none(text) is not None and 10 <= sum(c in string.digits for c in text) <= 15:
        assert looks_like_phone(text)


@given(st.one_of(_PHONEISH, _PLUS_DIGITS, st.sampled_from(_EXAMPLES)))
@example("31000000000")  # read as 31 0 000…; shown, it would have read as another number
def test_format_then_parse_gives_the_same_digits(text: str) -> None:
    digits = _parse_or_none(text)
    if digits is not None:
        assert parse_phone(format_phone(digits)) == digits


@given(st.one_of(st.text(max_size=80), _PLUS_DIGITS, st.text("0123456789", max_size=20)))
def test_format_phone_never_raises_nor_changes_the_number_shown(text: str) -> None:
    shown = format_phone(text)
    if shown != text:
        assert "".join(c for c in shown if c in string.digits) == text.removeprefix("+")


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


# --- a number never turns into another --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("495 123 45 67", "74951234567"),  # Moscow
        ("(499) 123-45-67", "74991234567"),  # Moscow
        ("812 123 45 67", "78121234567"),  # St Petersburg
        ("383 123 45 67", "73831234567"),  # Novosibirsk
        ("800 123 45 67", "78001234567"),  # free-phone
    ],
)
def test_ten_digit_russian_landline_is_russian_not_a_foreign_number(
    text: str, expected: str
) -> None:
    # "495 123 45 67" once became +49 5123 4567, a German number nobody typed.
    assert parse_phone(text) == expected
    assert phonenumbers.region_code_for_number(phonenumbers.parse("+" + expected)) == "RU"


@pytest.mark.parametrize(
    "text",
    [
        "0123456789",
        "212 555 0100",  # a US number without its 1
        "44 20 7946 09",  # a UK number missing digits
        "701 234 56 78",  # +7 7xx is Kazakhstan: ten digits are read as Russian only
        "899 912 34 56",  # trunk 8 and a mobile with a digit missing
        "8 10 1234567",  # the international prefix and too few digits
        "00 44 20 7946",  # the same with 00
    ],
)
def test_ten_digits_outside_russian_numbering_are_refused_asking_for_the_country_code(
    text: str,
) -> None:
    with pytest.raises(InvalidPhone) as caught:
        parse_phone(text)
    assert caught.value.reason == "no_country_code"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8 10 375 29 1234567", "375291234567"),
        ("810 44 20 7946 0958", "442079460958"),
        ("8 10 1 212 555 0100", "12125550100"),
    ],
)
def test_old_long_distance_prefix_8_10_dials_abroad(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


def test_phonenumbers_may_drop_a_national_prefix_but_never_insert_digits() -> None:
    # phonenumbers turns an Argentine "11 15 ..." into "9 11 ..." and prefixes San Marino's
    # six digits with 0549: numbers the person did not type, so they are refused.
    for text in ("+54 11 15 1234 5678", "+378 89 1234"):
        with pytest.raises(InvalidPhone) as caught:
            parse_phone(text)
        assert caught.value.reason == "impossible", text
    assert parse_phone("+54 9 11 1234 5678") == "5491112345678"
    assert parse_phone("+378 0549 891234") == "3780549891234"


def _ascii_digits(text: str) -> str:
    return "".join(c for c in text if c in string.digits)


def _rewritten(text: str) -> str:
    """The typed digits after the rewrites the module docstring documents (rule 3), written
    out again here as the specification: ``+`` keeps them; ten digits get ``7`` in front; a
    leading ``00`` or ``810`` is dropped; eleven digits starting with ``8`` start with ``7``."""
    digits = _ascii_digits(text)
    if "+" in text:
        return digits
    if len(digits) == 10:
        return "7" + digits
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("810"):
        return digits[3:]
    if len(digits) == 11 and digits.startswith("8"):
        return "7" + digits[1:]
    return digits


_SEPARATOR = st.sampled_from(["", "", "", " ", " ", "-", "(", ")", ".", "\u00a0", "\u2013"])


@st.composite
def _typed(draw: st.DrawFn, digits: st.SearchStrategy[str]) -> str:
    """``digits`` as a person might type them: separators anywhere, maybe a leading prefix."""
    typed = "".join(draw(_SEPARATOR) + digit for digit in draw(digits))
    return draw(st.sampled_from(["", "", "+", "00", "8 10 ", "8 "])) + typed


_NUMBERS = st.one_of(
    _PHONEISH,
    _PLUS_DIGITS,
    st.sampled_from(_EXAMPLES),
    _typed(st.text("0123456789", min_size=7, max_size=16)),
    # example numbers with a national prefix typed after the country code, or dialled with 00
    _typed(st.sampled_from(_EXAMPLES).map(_ascii_digits)),
    st.builds(
        lambda text, prefix: text.replace(" ", " " + prefix + " ", 1),
        st.sampled_from(_EXAMPLES),
        st.sampled_from(["0", "8", "1", "15", "06"]),
    ),
)


@given(_NUMBERS)
@example("+7 8 999 123 45 67")
@example("+44 (0) 20 7946 0958")
@example("8 10 375 29 1234567")
@example("495 123 45 67")
@example("+54 11 15 1234 5678")
def test_parsed_digits_are_the_typed_digits_in_order(text: str) -> None:
    """What the property allows: the documented prefix rewrites (``_rewritten``), then one run
    of digits dropped right after the country code (a national prefix typed there, ``+7 8 ...``,
    ``+44 (0) ...``). Nothing else: no digit inserted, reordered or changed."""
    result = _parse_or_none(text)
    if result is None:
        return
    rewritten = _rewritten(text)
    code = str(phonenumbers.parse("+" + result).country_code)
    assert result.startswith(code)
    assert rewritten.startswith(code)
    assert rewritten[len(code) :].endswith(result[len(code) :])


@given(st.one_of(_typed(st.text("0123456789", min_size=10, max_size=10)), _PHONEISH, _PLUS_DIGITS))
@example("495 123 45 67")
@example("499 123 45 67")
@example("812 123 45 67")
@example("701 234 56 78")
@example("00 44 20 7946")
@example("8 10 1234567")
def test_ten_digits_without_plus_are_a_russian_number_or_refused(text: str) -> None:
    digits = _ascii_digits(text)
    if "+" in text or len(digits) != 10:
        return
    result = _parse_or_none(text)
    if result is not None:
        assert result == "7" + digits
        # Russia's codes start with 3, 4, 8 or 9; +7 6xx and 7xx are Kazakhstan.
        assert digits[0] in "3489"


# --- /history's PHONE [N] ---------------------------------------------------------------------

HISTORY_MAX = 20


def test_history_count_after_a_foreign_number_typed_in_groups_is_the_count() -> None:
    # "+375 29 123 45 67 3" once became +375 2912345673 with the default count.
    assert read_phone_and_count("+375 29 123 45 67 3", HISTORY_MAX) == PhoneAndCount(
        "375291234567", "3"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+375 29 123 45 67", PhoneAndCount("375291234567")),
        ("+7 999 123 45 67", PhoneAndCount("79991234567")),
        ("+7 999 123 45 67 10", PhoneAndCount("79991234567", "10")),
        ("79991234567 3", PhoneAndCount("79991234567", "3")),
        ("495 123 45 67", PhoneAndCount("74951234567")),
        ("8 495 123 45 67 3", PhoneAndCount("74951234567", "3")),
        ("+44 20 7946 0958 5", PhoneAndCount("442079460958", "5")),
        # both possible, only one in an allocated range: that one
        ("+61 412 345 67 8", PhoneAndCount("61412345678")),  # an Australian mobile, whole
        # the count is returned as typed when only the split reading is a number
        ("+7 999 123 45 67 50", PhoneAndCount("79991234567", "50")),
        ("+7 999 123 45 67 abc", PhoneAndCount("79991234567", "abc")),
        # one block of digits, a space, a count: the count (the ambiguity answer's own advice)
        ("+49301234567 8", PhoneAndCount("49301234567", "8")),
        ("+493012345678", PhoneAndCount("493012345678")),
    ],
)
def test_history_argument_reads_as_one_number_and_its_count(
    text: str, expected: PhoneAndCount
) -> None:
    assert read_phone_and_count(text, HISTORY_MAX) == expected


def test_history_argument_that_reads_as_two_valid_numbers_is_ambiguous() -> None:
    # Berlin numbers have 7 or 8 digits: both +49 30 12345678 and +49 30 1234567 (N = 8) exist.
    reading = read_phone_and_count("+49 30 1234567 8", HISTORY_MAX)
    assert reading == AmbiguousCount("493012345678", PhoneAndCount("49301234567", "8"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0123456789 3", "no_country_code"),
        ("123 456 78 90", "no_country_code"),
        ("abc 5", "letters"),
        ("+7 999 123 45 67, +7 999 765 43 21 5", "two_numbers"),
        ("+7 999 12", "too_short"),
    ],
)
def test_history_argument_without_a_number_names_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        read_phone_and_count(text, HISTORY_MAX)
    assert caught.value.reason == reason


_GROUPED_EXAMPLES = [text for text in _EXAMPLES if " " in text.strip()]


@given(
    st.one_of(
        st.builds(
            lambda number, count: f"{number} {count}",
            st.sampled_from(_GROUPED_EXAMPLES),
            st.integers(0, 30).map(str),
        ),
        _PHONEISH,
        st.sampled_from(_EXAMPLES),
    )
)
@example("+49 30 1234567 8")
@example("+375 29 123 45 67 3")
def test_history_argument_reads_only_numbers_typed_and_ambiguity_advice_resolves(
    text: str,
) -> None:
    try:
        reading = read_phone_and_count(text, HISTORY_MAX)
    except InvalidPhone:
        return
    head = text.strip().rpartition(" ")[0]
    typed = {_parse_or_none(text), _parse_or_none(head)} - {None}
    if isinstance(reading, PhoneAndCount):
        assert reading.phone in typed
        return
    assert {reading.whole, reading.split.phone} == typed
    assert reading.whole != reading.split.phone
    # The two ways the answer offers to write it each read one way only.
    assert read_phone_and_count("+" + reading.whole, HISTORY_MAX) == PhoneAndCount(reading.whole)
    split = f"+{reading.split.phone} {reading.split.count}"
    assert read_phone_and_count(split, HISTORY_MAX) == reading.split


# --- a number inside a sentence (issue 15, item 8) --------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("клиент 79031112233 не получил код", "79031112233"),
        ("клиент +7 (903) 111-22-33 не получил код", "79031112233"),
        ("the customer at 8 903 111 22 33 says the code never came", "79031112233"),
        ("код 1234 на 79031112233 не пришёл", "79031112233"),
        ("\u200f+7 903 111-22-33\u200e — не доходит", "79031112233"),
        # the same number twice is one number
        ("79031112233, он же +7 903 111-22-33", "79031112233"),
        # no number, or more than one, or digits that read two ways: nothing to offer
        ("заказ 12345678 от 29.11", None),
        ("код 4821 не пришёл", None),
        ("79031112233 и 79095550011 не получили", None),
        ("8 800 555 35 35 12 раз", None),
        ("hello", None),
        ("", None),
    ],
)
def test_phone_in_sentence_finds_one_number_or_none(text: str, expected: str | None) -> None:
    assert phone_in_sentence(text) == expected


@given(st.text(max_size=120))
@example("a 79031112233 b")
@example("1 " * 40)
def test_phone_in_sentence_offers_only_a_number_typed_there(text: str) -> None:
    found = phone_in_sentence(text)
    if found is not None:
        assert parse_phone(found) == found or parse_phone("+" + found) == found
        # Its significant digits were typed, in order (prefix rewrites apart).
        assert found[-9:] in "".join(c for c in text if c in string.digits)


@given(st.one_of(_PHONEISH, st.text("0123456789 ", max_size=12)))
@example("495 123 45")
@example("49 30 1234")
def test_fewer_than_ten_digits_without_plus_are_never_a_number(text: str) -> None:
    digits = _ascii_digits(text)
    if "+" in text or digits.startswith(("00", "810")) or len(digits) >= 10:
        return
    assert _parse_or_none(text) is None
