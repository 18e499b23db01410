"""The one catalogue: every phrase in both languages, and every counted phrase agreeing with its
count in English and Russian."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

import bot.text
from bot.text import Lang, Plural, PluralForm, Text, plural_form

COUNTS = (0, 1, 2, 5, 11, 12, 14, 21, 22, 25, 101, 111)
# Which form each count takes, written out rather than computed: English says "1 member",
# "21 members"; Russian "1 участник", "2 участника", "5 участников", "11 участников",
# "21 участник", "22 участника", "25 участников" (CLDR).
FORM_OF: dict[Lang, dict[int, int]] = {
    Lang.EN: {0: 1, 1: 0, 2: 1, 5: 1, 11: 1, 12: 1, 14: 1, 21: 1, 22: 1, 25: 1, 101: 1, 111: 1},
    Lang.RU: {0: 2, 1: 0, 2: 1, 5: 2, 11: 2, 12: 2, 14: 2, 21: 0, 22: 1, 25: 2, 101: 0, 111: 2},
}

# For every counted phrase: the words that must agree with the count, per form ({n} the count).
AGREEING: dict[str, dict[Lang, tuple[str, ...]]] = {
    "DELKEY_OK": {
        Lang.EN: ("{n} member lost access", "{n} members lost access"),
        Lang.RU: (
            "доступ потерял {n} участник.",
            "доступ потеряли {n} участника.",
            "доступ потеряли {n} участников.",
        ),
    },
    "REKEY_OK": {
        Lang.EN: ("its {n} member keeps access", "its {n} members keep access"),
        Lang.RU: (
            "доступ сохранил {n} участник,",
            "доступ сохранили {n} участника,",
            "доступ сохранили {n} участников,",
        ),
    },
    "KEYS_LINE": {
        Lang.EN: ("{n} member", "{n} members"),
        Lang.RU: ("{n} участник", "{n} участника", "{n} участников"),
    },
    "KEYS_PUSHES_REFUSED": {
        Lang.EN: ("{n} push refused", "{n} pushes refused"),
        Lang.RU: ("{n} пуш отклонён", "{n} пуша отклонено", "{n} пушей отклонено"),
    },
    "AUDIT_HEADER": {
        Lang.EN: ("Last {n} lookup<", "Last {n} lookups<"),
        Lang.RU: ("Последний {n} запрос<", "Последние {n} запроса<", "Последние {n} запросов<"),
    },
    "MIN_AGO": {
        Lang.EN: ("{n} minute ago", "{n} minutes ago"),
        Lang.RU: ("{n} минуту назад", "{n} минуты назад", "{n} минут назад"),
    },
    "HOURS_AGO": {
        Lang.EN: ("{n} hour ago", "{n} hours ago"),
        Lang.RU: ("{n} час назад", "{n} часа назад", "{n} часов назад"),
    },
    "DAYS_AGO": {
        Lang.EN: ("{n} day ago", "{n} days ago"),
        Lang.RU: ("{n} день назад", "{n} дня назад", "{n} дней назад"),
    },
    "HISTORY_HEAD": {
        Lang.EN: ("last {n} message", "last {n} messages"),
        Lang.RU: ("Последнее {n} сообщение", "Последние {n} сообщения", "Последние {n} сообщений"),
    },
    "RECENT_HEAD": {
        Lang.EN: ("last {n} message", "last {n} messages"),
        Lang.RU: (
            "Последнее {n} сообщение аккаунта",
            "Последние {n} сообщения аккаунта",
            "Последние {n} сообщений аккаунта",
        ),
    },
    "RECENT_NONE": {
        Lang.EN: ("the last {n} day.", "the last {n} days."),
        Lang.RU: ("За последний {n} день", "За последние {n} дня", "За последние {n} дней"),
    },
    "FAILED_NONE": {
        Lang.EN: ("({n} sent)", "({n} sent)"),
        Lang.RU: (
            "(отправлено {n} сообщение)",
            "(отправлено {n} сообщения)",
            "(отправлено {n} сообщений)",
        ),
    },
    "PUSHED_MANY": {
        Lang.EN: ("{n} status here was pushed", "{n} statuses here were pushed"),
        Lang.RU: (
            "{n} статус здесь прислан",
            "{n} статуса здесь присланы",
            "{n} статусов здесь присланы",
        ),
    },
    "FAILED_PARTIAL": {
        Lang.EN: ("gives {n} message per", "gives {n} messages per"),
        Lang.RU: (
            "отдаёт {n} сообщение за запрос",
            "отдаёт {n} сообщения за запрос",
            "отдаёт {n} сообщений за запрос",
        ),
    },
}


def _catalogue_modules() -> Iterator[ModuleType]:
    for info in pkgutil.iter_modules(bot.text.__path__):
        yield importlib.import_module(f"bot.text.{info.name}")


def _phrases() -> dict[str, Text | Plural]:
    found: dict[str, Text | Plural] = {}
    for module in _catalogue_modules():
        for name, value in vars(module).items():
            if isinstance(value, Text | Plural) and not name.startswith("_"):
                assert found.get(name, value) is value, f"{name} defined twice"
                found[name] = value
    return found


PHRASES = _phrases()
COUNTED = {name: phrase for name, phrase in PHRASES.items() if isinstance(phrase, Plural)}


def _fill(template: str) -> str:
    """Every placeholder but ``{n}`` filled with a marker, so only the count varies."""
    return re.sub(r"\{(?!n\})[a-z_]+\}", "X", template)


def test_the_catalogue_is_found() -> None:
    # A guard for the tests below: they iterate over what this finds.
    assert {"DELKEY_OK", "ADMIN_ONLY", "MORE", "CONSOLE_TITLE"} <= PHRASES.keys()
    assert len(PHRASES) > 100


def test_every_counted_phrase_has_its_agreement_written_down() -> None:
    assert set(COUNTED) == set(AGREEING)


@pytest.mark.parametrize("name", sorted(AGREEING))
@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("n", COUNTS)
def test_counted_phrases_agree_with_the_count(name: str, lang: Lang, n: int) -> None:
    phrase = COUNTED[name]
    fields = {field: "X" for field in re.findall(r"\{([a-z_]+)\}", phrase.forms(lang)[0])}
    fields.pop("n", None)
    shown = phrase(lang, n, **fields)
    expected = _fill(AGREEING[name][lang][FORM_OF[lang][n]]).format(n=n)
    assert expected in shown
    assert str(n) in shown


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        (Lang.EN, 1, "1 member"),
        (Lang.EN, 2, "2 members"),
        (Lang.EN, 21, "21 members"),
        (Lang.RU, 1, "1 участник"),
        (Lang.RU, 2, "2 участника"),
        (Lang.RU, 5, "5 участников"),
        (Lang.RU, 11, "11 участников"),
        (Lang.RU, 21, "21 участник"),
        (Lang.RU, 22, "22 участника"),
        (Lang.RU, 25, "25 участников"),
    ],
)
def test_members_line_reads_naturally(lang: Lang, n: int, expected: str) -> None:
    line = PHRASES["KEYS_LINE"]
    assert isinstance(line, Plural)
    assert line(lang, n, name="main", fingerprint="abcd", personal="").endswith(expected)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "1 день назад"), (2, "2 дня назад"), (5, "5 дней назад"), (21, "21 день назад")],
)
def test_days_ago_in_russian(n: int, expected: str) -> None:
    days = PHRASES["DAYS_AGO"]
    assert isinstance(days, Plural)
    assert days(Lang.RU, n) == expected


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("n", COUNTS)
def test_plural_rule(lang: Lang, n: int) -> None:
    forms = {Lang.EN: (PluralForm.ONE, PluralForm.OTHER)}.get(
        lang, (PluralForm.ONE, PluralForm.FEW, PluralForm.MANY)
    )
    assert plural_form(lang, n) is forms[FORM_OF[lang][n]]


@pytest.mark.parametrize("name", sorted(PHRASES))
def test_every_phrase_has_both_languages(name: str) -> None:
    phrase = PHRASES[name]
    if isinstance(phrase, Plural):
        templates = [*phrase.forms(Lang.EN), *phrase.forms(Lang.RU)]
    else:
        templates = [phrase(Lang.EN), phrase(Lang.RU)]
    assert all(template.strip() for template in templates)
    placeholders = {frozenset(re.findall(r"\{(\w*)\}", template)) for template in templates}
    assert len(placeholders) == 1, placeholders


def test_english_and_russian_differ() -> None:
    # Catches a copy-paste that puts the same language in both slots.
    same = [
        name
        for name, phrase in PHRASES.items()
        if (phrase.en == phrase.ru if isinstance(phrase, Text) else phrase.en[0] == phrase.ru[0])
    ]
    # Lines that are the same in both languages by design (only placeholders and symbols).
    assert set(same) <= {"USERS_LINE"}, same


def test_the_words_layer_imports_no_aiogram() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.text, bot.text.catalogue, bot.text.render; "
            "print(sorted({m.split('.')[0] for m in sys.modules}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "'bot'" in loaded
    assert "aiogram" not in loaded


# --- the import-time checks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("en", "ru", "problem"),
    [
        ("", "x", "both translations"),
        ("x", " ", "both translations"),
        ("{name} left", "{имя} ушёл", "different placeholders"),
        ("{name} left", "ушёл", "different placeholders"),
        ("a {broken", "a {broken", "cannot read"),
    ],
)
def test_text_refuses_a_bad_phrase(en: str, ru: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Text(en, ru)


@pytest.mark.parametrize(
    ("en", "ru", "problem"),
    [
        (("{n} day",), ("{n} день", "{n} дня", "{n} дней"), "needs the forms"),
        (("{n} day", "{n} days"), ("{n} день", "{n} дня"), "needs the forms"),
        (("{n} day", "{n} days"), ("{n} день", "", "{n} дней"), "non-empty"),
        (("one day", "{n} days"), ("{n} день", "{n} дня", "{n} дней"), "different placeholders"),
        (("a day", "days"), ("день", "дня", "дней"), "the count"),
        (("{n} {x}", "{n} days"), ("{n} день", "{n} дня", "{n} дней"), "different placeholders"),
    ],
)
def test_plural_refuses_a_bad_phrase(
    en: tuple[str, ...], ru: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        Plural(en, ru)  # type: ignore[arg-type]


def test_plural_formats_the_count_and_other_fields() -> None:
    left = Plural(
        ("{who}: {n} day left", "{who}: {n} days left"),
        ("{who}: остался {n} день", "{who}: осталось {n} дня", "{who}: осталось {n} дней"),
    )
    assert left(Lang.EN, 1, who="A") == "A: 1 day left"
    assert left(Lang.EN, 0, who="A") == "A: 0 days left"
    assert left(Lang.RU, 21, who="Б") == "Б: остался 21 день"
    assert left(Lang.RU, 14, who="Б") == "Б: осталось 14 дней"
    assert left(Lang.RU, 104, who="Б") == "Б: осталось 104 дня"
