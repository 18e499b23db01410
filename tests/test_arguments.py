"""Command arguments as people type them (``bot.chat.arguments``): pure parsing, no bot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.chat import arguments
from bot.chat.arguments import BadArgument
from bot.text import Lang, Text
from bot.text import catalogue as texts

USAGE = "usage line"
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("007", 7),
        ("999", 999),
        ("1000", None),  # more digits than allowed
        ("", None),
        ("+5", None),  # int() would take these three
        (" 5", None),
        ("5_0", None),
        ("²", None),  # str.isdigit() would take these two
        ("٣", None),
        ("-1", None),
        ("1.5", None),
    ],
)
def test_digits_are_plain_ascii_digits_within_a_length(text: str, expected: int | None) -> None:
    assert arguments.digits(text, 3) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [(None, 10), ("", 10), ("   ", 10), ("1", 1), (" 7 ", 7), ("50", 50)],
)
def test_count_is_optional_with_a_default(args: str | None, expected: int) -> None:
    assert arguments.count(args, default=10, maximum=50, usage=USAGE) == expected


@pytest.mark.parametrize("args", ["0", "51", "999", "1000", "x", "5 6", "-3", "٣"])
def test_count_out_of_range_or_not_a_number_answers_the_usage(args: str) -> None:
    with pytest.raises(BadArgument) as raised:
        arguments.count(args, default=10, maximum=50, usage=USAGE)
    assert raised.value.reply == USAGE


def test_user_ids_and_message_ids_have_their_own_lengths() -> None:
    assert arguments.user_id("123456789012345", USAGE) == 123456789012345
    assert arguments.message_id("123456789012345678", USAGE) == 123456789012345678
    for bad in ("1234567890123456", "", "12a", "+1"):
        with pytest.raises(BadArgument):
            arguments.user_id(bad, USAGE)
    for bad in ("1234567890123456789", "", "1 2"):
        with pytest.raises(BadArgument):
            arguments.message_id(bad, USAGE)


@pytest.mark.parametrize("name", ["main", "a", "A-b_9", "x" * 32, "DEMO"])
def test_account_names_are_case_insensitive_slugs_given_in_lower_case(name: str) -> None:
    assert arguments.account_name(name, USAGE) == name.lower()


@pytest.mark.parametrize("name", ["", "x" * 33, "with space", "имя", "<b>", "a.b", "main\n"])
def test_account_names_refused(name: str) -> None:
    with pytest.raises(BadArgument):
        arguments.account_name(name, USAGE)


def test_an_api_key_is_one_word_of_at_most_256_characters() -> None:
    assert arguments.looks_like_key("k" * arguments.MAX_KEY_LENGTH)
    assert arguments.api_key("MYKEY-0123", USAGE, Lang.EN) == "MYKEY-0123"
    for bad in ("", "k" * (arguments.MAX_KEY_LENGTH + 1), "two words", "tab\tkey", "nbsp\u00a0key"):
        assert not arguments.looks_like_key(bad)
        with pytest.raises(BadArgument):
            arguments.api_key(bad, USAGE, Lang.EN)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("two words", texts.NOT_A_KEY_SPACES),
        ("nbsp\u00a0key", texts.NOT_A_KEY_SPACES),
        ("ключ-from-a-russian-layout", texts.NOT_A_KEY_CHARACTERS),
        ("zero\u200bwidth", texts.NOT_A_KEY_CHARACTERS),
        ("bell\x07", texts.NOT_A_KEY_CHARACTERS),
        ("k" * (arguments.MAX_KEY_LENGTH + 1), texts.NOT_A_KEY_LENGTH),
    ],
)
@pytest.mark.parametrize("lang", list(Lang))
def test_what_no_key_can_be_is_refused_saying_why_and_never_echoed(
    typed: str, why: Text, lang: Lang
) -> None:
    # Issue 15, item 13: refused here, before SMS Center is asked (refused keys pause checks).
    with pytest.raises(BadArgument) as refused:
        arguments.api_key(typed, USAGE, lang)
    assert why(lang) in refused.value.reply
    assert typed not in refused.value.reply and typed[:6] not in refused.value.reply
    assert str(arguments.MAX_KEY_LENGTH) in texts.NOT_A_KEY_LENGTH(lang)


def test_no_key_at_all_gets_the_usage() -> None:
    with pytest.raises(BadArgument) as refused:
        arguments.api_key("", USAGE, Lang.EN)
    assert refused.value.reply == USAGE


@pytest.mark.parametrize(
    "key", ["demo7f3a9c2e41b84d0e9a6c5b1f2e8d4c", "a", "K3Y-with_punct.~!$%", "x" * 256]
)
def test_anything_a_key_might_be_is_left_to_sms_center(key: str) -> None:
    assert arguments.api_key(key, USAGE, Lang.EN) == key


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (None, ("", "")),
        ("", ("", "")),
        ("one", ("one", "")),
        ("  one   two three ", ("one", "two three")),
    ],
)
def test_split_first(args: str | None, expected: tuple[str, str]) -> None:
    assert arguments.split_first(args) == expected


def test_a_phone_is_canonical_or_answers_with_the_commands_example() -> None:
    assert arguments.phone("+7 999 123-45-67", "last", Lang.EN) == "79991234567"
    with pytest.raises(BadArgument) as raised:
        arguments.phone("+7 999 123-45-67 ☎", "status", Lang.RU)
    assert "/status" in raised.value.reply and "Это не номер телефона" in raised.value.reply


@pytest.mark.parametrize(
    ("text", "english", "russian"),
    [
        ("+7 999 123", "Too few digits", "Слишком мало цифр"),
        ("7" * 20, "Too many digits", "Слишком много цифр"),
        ("+7 999 123-45-67, +7 999 765-43-21", "two numbers", "два номера"),
        ("79991234567 79997654321", "two numbers", "два номера"),
        ("+7 999 CALL-ME", "no letters", "не бывает букв"),
        ("+7 999\u2060123-45-67", "invisible", "невидимые"),
        ("+999 123 456 789", "country code", "код страны"),
        ("+44 20 79", "Too few digits", "Слишком мало цифр"),
    ],
)
def test_a_refused_number_is_told_why_in_both_languages(
    text: str, english: str, russian: str
) -> None:
    """Issue 15, item 9: each refusal names its reason, with the command's example."""
    for lang, expected in ((Lang.EN, english), (Lang.RU, russian)):
        with pytest.raises(BadArgument) as raised:
            arguments.phone(text, "last", lang)
        assert expected in raised.value.reply and "/last +7 999" in raised.value.reply


def test_a_number_pasted_with_invisible_marks_is_the_number() -> None:
    pasted = "\u202a\u200e+7\u00a0(903)\u00a0111-22-33\u200f\u202c\ufeff"
    assert arguments.phone(pasted, "last", Lang.EN) == "79031112233"


def _history(args: str | None) -> tuple[str, int]:
    return arguments.phone_and_count(args, default=5, maximum=20, usage=USAGE, lang=Lang.EN)


def test_history_takes_a_phone_and_an_optional_count() -> None:
    assert _history("+7 999 123-45-67") == ("79991234567", 5)
    assert _history("+7 999 123-45-67 10") == ("79991234567", 10)
    # Spaces inside a number never lose its last group to N.
    assert _history("+7 999 123 45 67") == ("79991234567", 5)


def test_history_without_a_phone_or_with_a_bad_count_is_refused() -> None:
    with pytest.raises(BadArgument) as usage:
        _history("  ")
    assert usage.value.reply == USAGE
    with pytest.raises(BadArgument) as bad_count:
        _history("+7 999 123-45-67 21")
    assert bad_count.value.reply == USAGE
    with pytest.raises(BadArgument) as not_a_phone:
        _history("hello")
    assert "/history" in not_a_phone.value.reply


def test_arguments_the_command_table_and_escaping_import_no_aiogram() -> None:
    code = (
        "import sys, bot.chat.arguments, bot.chat.escaping, bot.text.commands; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiogram'))"
    )
    done = subprocess.run(  # a fresh interpreter: this one has imported aiogram long ago
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"


# --- /watch [PERCENT] [MINUTES] (PRODUCT.md §10) ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (None, (20, 15)),
        ("", (20, 15)),
        ("30", (30, 15)),
        ("30%", (30, 15)),
        ("1 1", (1, 1)),
        ("100 1440", (100, 1440)),
        (" 20   5 ", (20, 5)),
    ],
)
def test_watch_takes_a_percent_and_minutes_with_defaults(
    args: str | None, expected: tuple[int, int]
) -> None:
    assert arguments.watch_rule(args, "usage") == expected


@pytest.mark.parametrize(
    "args",
    ["0", "101", "abc", "20 0", "20 100000", "20 1441", "-5", "20 5 5", "2.5", "20 abc", "%"],
)
def test_watch_refuses_anything_else_with_the_usage_line(args: str) -> None:
    with pytest.raises(BadArgument) as caught:
        arguments.watch_rule(args, "usage")
    assert caught.value.reply == "usage"
