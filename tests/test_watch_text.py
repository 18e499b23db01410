"""What a watch says (bot/text/alerts.py): the headline a lock screen shows whole (at most 100
characters), reasons and operators with counts, "operator unknown", both languages."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.text import Lang, View
from bot.text.alerts import (
    HEADLINE_LIMIT,
    alert_headline,
    render_alert,
    render_blind,
    render_resolved,
    render_seeing,
)
from bot.watch import Alert, Blind, Outcome, Resolved, Rule, Seeing, tally

T0 = 1_790_000_000.0  # 17:13:20 in Moscow
RULE = Rule(20, 15)


def example_alert(operator: str = "МТС", *, repeat: bool = False) -> Alert:
    outcomes = (
        [Outcome(20, T0 + i, 255, operator) for i in range(19)]
        + [Outcome(20, T0 + 30, 6, "") for _ in range(4)]
        + [Outcome(1, T0 + 40, None, "Билайн") for _ in range(38)]
        + [Outcome(0, T0 + 50, None, operator) for _ in range(7)]
    )
    return Alert(tally(outcomes, T0 - 900, T0 + 60), T0, repeat)


def view(lang: Lang) -> View:
    return View(lang, ZoneInfo("Europe/Moscow"), T0 + 60, mask_codes=True)


def test_the_headline_is_the_products_example() -> None:
    assert alert_headline(example_alert(), RULE, Lang.EN) == (
        "⚠️ SMS failures 38 % (23 of 61) in 15 min · МТС 19 · err 255"
    )
    assert alert_headline(example_alert(), RULE, Lang.RU) == (
        "⚠️ Недоставки SMS 38 % (23 из 61) за 15 мин · МТС 19 · ошибка 255"
    )


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("repeat", [False, True])
@pytest.mark.parametrize(
    "operator",
    [
        "",
        "МТС",
        "ПАО «Вымпел-Коммуникации» (Билайн), филиал Северо-Западный, Санкт-Петербург " * 3,
        "x" * 500,
        "line\nbreaks\tand   spaces " * 10,
    ],
)
def test_the_headline_fits_a_lock_screen(lang: Lang, repeat: bool, operator: str) -> None:
    headline = alert_headline(example_alert(operator, repeat=repeat), RULE, lang)
    assert len(headline) <= HEADLINE_LIMIT
    assert "\n" not in headline
    assert "23" in headline and "61" in headline  # the counts are never cut


def test_a_long_operator_name_is_shortened_not_dropped() -> None:
    headline = alert_headline(example_alert("Оператор " * 30), RULE, Lang.EN)
    assert len(headline) == HEADLINE_LIMIT
    assert "… 19 · err 255" in headline


def test_the_alert_lists_reasons_and_operators_with_counts() -> None:
    text = render_alert(example_alert(), RULE, "main", view(Lang.EN))
    assert text.splitlines()[:3] == [
        "<b>⚠️ SMS failures 38 % (23 of 61) in 15 min · МТС 19 · err 255</b>",
        "Account <b>main</b> · failing since 17:13 · threshold 20 %",
        "Still on their way, not counted: 7",
    ]
    assert "• impossible to deliver (20) · rejected by operator (255) — <b>19</b>" in text
    assert "• impossible to deliver (20) · subscriber offline (6) — <b>4</b>" in text
    assert "<b>By operator</b>\n• МТС — <b>19</b>\n• operator unknown — <b>4</b>" in text


def test_the_alert_in_russian() -> None:
    text = render_alert(example_alert(), RULE, "main", view(Lang.RU))
    assert "Аккаунт <b>main</b> · недоставки с 17:13 · порог 20 %" in text
    assert "<b>По операторам</b>\n• МТС — <b>19</b>\n• оператор неизвестен — <b>4</b>" in text


def test_an_operator_name_is_escaped() -> None:
    text = render_alert(example_alert("<b>Evil</b> & co"), RULE, "main", view(Lang.EN))
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; co" in text
    assert "<b>Evil</b>" not in text


def test_more_than_five_reasons_end_in_other() -> None:
    outcomes = [Outcome(20, T0, err, "МТС") for err in (1, 6, 11, 12, 13, 21, 240) for _ in "ab"]
    text = render_alert(Alert(tally(outcomes, T0 - 60, T0), T0, False), RULE, "m", view(Lang.EN))
    reasons = text.split("<b>By reason</b>\n")[1].split("\n\n")[0].splitlines()
    assert len(reasons) == 5 and reasons[-1] == "• other — <b>6</b>"


def test_resolved_blind_and_seeing_in_both_languages() -> None:
    counts = tally([Outcome(20, T0, 255), Outcome(1, T0)], T0 - 60, T0)
    resolved = Resolved(counts, T0 - 1800, T0)
    assert render_resolved(resolved, RULE, "main", view(Lang.EN)) == (
        "✅ Resolved: SMS failures of <b>main</b> under 20 % for 15 min (now 50 %, 1 of 2); "
        "failing since 16:43."
    )
    assert render_resolved(resolved, RULE, "main", view(Lang.RU)).startswith("✅ Отбой:")
    assert render_blind(Blind(T0, "smsc"), "main", view(Lang.EN)).startswith(
        "👁 The watch of <b>main</b> is blind since 17:13: SMS Center does not answer."
    )
    assert "не было пушей статусов" in render_blind(Blind(T0, ""), "main", view(Lang.RU))
    assert render_seeing(Seeing(T0, T0 + 60), "main", view(Lang.EN)) == (
        "👁 The watch of <b>main</b> sees again (blind since 17:13)."
    )
