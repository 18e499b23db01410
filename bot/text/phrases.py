"""The phrase types: a language, a plain phrase in every language, a counted phrase with its plural
forms, and each language's plural rule.

Both types check themselves when they are built, so a bad phrase fails at import, not in a chat:
every translation present and non-empty, the same ``{placeholders}`` in every language and form,
and a counted phrase's ``{n}`` in each of its forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from string import Formatter

__all__ = ["Lang", "Plural", "PluralForm", "Text", "lang_for", "plural_form"]


class Lang(StrEnum):
    """A language the bot answers in."""

    EN = "en"
    RU = "ru"


def lang_for(language_code: str | None) -> Lang:
    """Pick the answer language from Telegram's ``User.language_code``.

    Russian for any tag whose primary subtag is ``ru`` (``"ru"``, ``"ru-RU"``, ``"RU_ru"``),
    English for everything else, missing or empty included. Deliberately simple: Ukrainian,
    Belarusian or Kazakh users get English rather than a guess at which language they prefer.
    """
    if not language_code:
        return Lang.EN
    primary = language_code.strip().replace("_", "-").split("-", 1)[0].lower()
    return Lang.RU if primary == "ru" else Lang.EN


class PluralForm(StrEnum):
    """A CLDR plural category (the ones our languages use for whole numbers)."""

    ONE = "one"
    FEW = "few"
    MANY = "many"
    OTHER = "other"


def plural_form(lang: Lang, n: int) -> PluralForm:
    """The form a count ``n`` takes in ``lang``, by CLDR's rules for whole numbers.

    English: 1 is ``one``, everything else ``other``. Russian: ``one`` when ``n % 10 == 1`` and
    ``n % 100 != 11`` (1, 21, 101), ``few`` when ``n % 10`` is 2–4 and ``n % 100`` is not 12–14
    (2, 3, 22), ``many`` otherwise (0, 5, 11, 12, 25). Negative counts take the form of their
    absolute value.
    """
    n = abs(n)
    if lang is Lang.RU:
        if n % 10 == 1 and n % 100 != 11:
            return PluralForm.ONE
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return PluralForm.FEW
        return PluralForm.MANY
    return PluralForm.ONE if n == 1 else PluralForm.OTHER


#: The forms a counted phrase gives in each language, in the order :class:`Plural` takes them.
FORMS: dict[Lang, tuple[PluralForm, ...]] = {
    Lang.EN: (PluralForm.ONE, PluralForm.OTHER),
    Lang.RU: (PluralForm.ONE, PluralForm.FEW, PluralForm.MANY),
}


def _fields(template: str) -> frozenset[str]:
    """The ``{placeholders}`` of ``template``; a template ``str.format`` cannot read raises."""
    return frozenset(name for _, name, _, _ in Formatter().parse(template) if name)


def _check(phrase: object, templates: list[str]) -> frozenset[str]:
    """The placeholders every template shares; raises ``ValueError`` on an empty or uneven one."""
    if any(not template.strip() for template in templates):
        raise ValueError(f"every translation is required and non-empty: {phrase!r}")
    try:
        fields = {_fields(template) for template in templates}
    except ValueError as exc:
        raise ValueError(f"a translation str.format cannot read ({exc}): {phrase!r}") from None
    if len(fields) != 1:
        raise ValueError(f"translations name different placeholders {fields}: {phrase!r}")
    return fields.pop()


@dataclass(frozen=True, slots=True)
class Text:
    """One phrase in every supported language; never empty, the same placeholders in each.

    Calling it gives the template in a language; the caller fills its ``{fields}`` with
    ``str.format`` and text that is already HTML-escaped.
    """

    en: str
    ru: str

    def __post_init__(self) -> None:
        # An empty translation would show as a blank line in a chat; fail at import instead.
        if not self.en.strip() or not self.ru.strip():
            raise ValueError(f"both translations are required: {self!r}")
        _check(self, [self.en, self.ru])

    def __call__(self, lang: Lang) -> str:
        """The text in ``lang``."""
        return self.ru if lang is Lang.RU else self.en


@dataclass(frozen=True, slots=True)
class Plural:
    """A phrase about a count ``{n}``, in every form each language needs for it.

    ``en`` holds the ``one`` and ``other`` forms, ``ru`` the ``one``, ``few`` and ``many`` forms
    (see :func:`plural_form`). Every form is non-empty, holds ``{n}``, and names the same other
    placeholders as the rest.
    """

    en: tuple[str, str]
    ru: tuple[str, str, str]

    def __post_init__(self) -> None:
        for lang in Lang:
            if len(self.forms(lang)) != len(FORMS[lang]):
                raise ValueError(
                    f"{lang} needs the forms {[str(f) for f in FORMS[lang]]}: {self!r}"
                )
        fields = _check(self, [*self.en, *self.ru])
        if "n" not in fields:
            raise ValueError(f"every form must say the count {{n}}: {self!r}")

    def forms(self, lang: Lang) -> tuple[str, ...]:
        """The templates of ``lang``, in the order of :data:`FORMS`."""
        return self.ru if lang is Lang.RU else self.en

    def template(self, lang: Lang, n: int) -> str:
        """The template for the count ``n`` in ``lang``, its placeholders unfilled."""
        return self.forms(lang)[FORMS[lang].index(plural_form(lang, n))]

    def __call__(self, lang: Lang, n: int, **fields: object) -> str:
        """The phrase for the count ``n`` in ``lang``, ``{n}`` and ``fields`` filled in.

        ``fields`` must already be HTML-escaped where they come from users or SMS Center.
        """
        return self.template(lang, n).format(n=n, **fields)
