"""bot.text.render: escaping, masking, diagnosis, freshness, times, length, well-formed HTML."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from html.parser import HTMLParser
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.fetch import HeldBack, Lookup, Origin, Window
from bot.smsc import HistoryEntry, MessageStatus
from bot.text import (
    MAX_MESSAGE,
    Lang,
    View,
    error_info,
    fit,
    freshness,
    mask_codes,
    render_failed,
    render_history,
    render_last,
    render_recent,
    render_status,
    when,
)

MOSCOW = ZoneInfo("Europe/Moscow")
# 25.11.2025 14:15:00 in Moscow (11:15 UTC).
NOW = datetime(2025, 11, 25, 14, 15, tzinfo=MOSCOW).timestamp()
PHONE = "79991234567"
SHOWN_PHONE = "+7 999 123-45-67"

T = TypeVar("T")


def view(lang: Lang = Lang.EN, *, group: bool = False, tz: ZoneInfo = MOSCOW) -> View:
    return View(lang=lang, tz=tz, now=NOW, mask_codes=group)


def entry(**fields: object) -> HistoryEntry:
    base: dict[str, object] = {
        "status": 1,
        "send_timestamp": int(NOW - 720),
        "last_timestamp": int(NOW - 600),
        "phone": PHONE,
        "operator": "MTS",
        "region": "Moscow",
        "country": "Russia",
        "sender": "SMSC",
        "sms_cnt": 1,
        "cost": Decimal("3.50"),
        "id": 12,
        "int_id": 345678,
        "message": "Hello",
    }
    base.update(fields)
    return HistoryEntry(**base)  # type: ignore[arg-type]


def fresh(value: T, fetched_at: float = NOW - 5) -> Lookup[T]:
    return Lookup(value, Origin.FRESH, fetched_at)


class _TagChecker(HTMLParser):
    """Records problems: unknown tags, closers that close nothing, tags left open."""

    ALLOWED = frozenset({"b", "i", "code"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.ALLOWED or attrs:
            self.problems.append(f"tag {tag} {attrs}")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing {tag}")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unbalanced </{tag}> with {self.stack}")
        else:
            self.stack.pop()


_BAD_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot);)")
_STRAY_LT = re.compile(r"<(?!/?(?:b|i|code)>)")


def assert_well_formed(text: str) -> None:
    """Only our tags, balanced and closed; every '&' starts an entity; no stray '<'."""
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    assert checker.problems == [], text
    assert checker.stack == [], text
    assert not _BAD_AMP.search(text), text
    assert not _STRAY_LT.search(text), text
    assert ">" not in re.sub(r"</?(?:b|i|code)>", "", text), text


def assert_sendable(text: str) -> None:
    assert 0 < len(text) <= MAX_MESSAGE
    assert len(text.encode("utf-16-le")) // 2 <= MAX_MESSAGE
    text.encode("utf-8")  # no lone surrogates: Telegram could not receive them
    assert_well_formed(text)


# --- when -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ago", "lang", "expected"),
    [
        (30, Lang.EN, "14:14 (just now)"),
        (30, Lang.RU, "14:14 (только что)"),
        (12 * 60, Lang.EN, "14:03 (12 minutes ago)"),
        (12 * 60, Lang.RU, "14:03 (12 минут назад)"),
        (2 * 3600 + 300, Lang.EN, "12:10 (2 hours ago)"),
        (2 * 3600 + 300, Lang.RU, "12:10 (2 часа назад)"),
        (86400 + 60, Lang.EN, "24.11 14:14 (1 day ago)"),
        (3 * 86400, Lang.EN, "22.11 14:15 (3 days ago)"),
        (3 * 86400, Lang.RU, "22.11 14:15 (3 дня назад)"),
    ],
)
def test_when_relative_in_both_languages(ago: int, lang: Lang, expected: str) -> None:
    assert when(NOW - ago, view(lang)) == expected


def test_when_date_boundary_depends_on_the_time_zone() -> None:
    # 24.11 23:30 UTC is 25.11 02:30 in Moscow; "now" is 25.11 00:30 UTC / 03:30 Moscow.
    ts = datetime(2025, 11, 24, 23, 30, tzinfo=UTC).timestamp()
    now = datetime(2025, 11, 25, 0, 30, tzinfo=UTC).timestamp()
    moscow = View(Lang.EN, MOSCOW, now, mask_codes=False)
    utc = View(Lang.EN, ZoneInfo("UTC"), now, mask_codes=False)
    assert when(ts, moscow) == "02:30 (1 hour ago)"
    assert when(ts, utc) == "24.11 23:30 (1 hour ago)"


def test_when_other_year_none_future_and_nonsense() -> None:
    ts = datetime(2024, 12, 31, 23, 0, tzinfo=MOSCOW).timestamp()
    assert when(ts, view()).startswith("31.12.2024 23:00 (")
    assert when(None, view()) == "—"
    assert when(NOW + 3600, view()) == "15:15"
    assert when(1e300, view()) == "—"


# --- mask_codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Your code 1234", "Your code ••••"),
        ("code:12345678.", "code:••••••••."),
        ("G-482913 is your code", "G-•••••• is your code"),
        ("123 is short", "123 is short"),
        ("call 79991234567", "call 79991234567"),
        ("nine 123456789", "nine 123456789"),
        ("fullwidth １２３４", "fullwidth １２３４"),
        ("two 1111 and 22222", "two •••• and •••••"),
        # Issue 15, item 17: realistic texts, codes masked, the rest readable.
        ("Ваш код подтверждения: 3922", "Ваш код подтверждения: ••••"),
        (
            "Код для входа в MyBank: 314921. Никому его не сообщайте",
            "Код для входа в MyBank: ••••••. Никому его не сообщайте",
        ),
        ("Пароль: 8841, действует 5 минут", "Пароль: ••••, действует 5 минут"),
        ("Подтвердите вход: 5519", "Подтвердите вход: ••••"),
        ("4821 — ваш код для Госуслуг", "•••• — ваш код для Госуслуг"),
        ("Your verification code is 123456", "Your verification code is ••••••"),
        ("PIN 1234, do not share it", "PIN ••••, do not share it"),
        (
            "Sign in: https://x.example/login?code=482193",
            "Sign in: https://x.example/login?code=••••••",
        ),
        ("Use 7731 to sign in", "Use •••• to sign in"),  # standalone: looks like a code
        # order numbers, links, amounts, dates and cards stay readable
        (
            "Заказ №12345678 оформлен: https://shop.example/orders/12345678",
            "Заказ №12345678 оформлен: https://shop.example/orders/12345678",
        ),
        ("Ваш заказ 778899 передан в доставку", "Ваш заказ 778899 передан в доставку"),
        (
            "Your order 5521 has shipped, track TRK55210099",
            "Your order 5521 has shipped, track TRK55210099",
        ),
        (
            "Списание 1500,00 руб. по карте *4417. Баланс: 12345,55 руб.",
            "Списание 1500,00 руб. по карте *4417. Баланс: 12345,55 руб.",
        ),
        (
            "Только сегодня: от 3000 руб. https://shop.example/2for1",
            "Только сегодня: от 3000 руб. https://shop.example/2for1",
        ),
        ("Скидка 15% и 2500 ₽ до 31.12.2026", "Скидка 15% и 2500 ₽ до 31.12.2026"),
        ("Invoice INV-20261130 is paid: $1299.00", "Invoice INV-20261130 is paid: $1299.00"),
        ("Встреча 29.11.2026 в 14:30, каб. A1204", "Встреча 29.11.2026 в 14:30, каб. A1204"),
    ],
)
def test_mask_codes(text: str, expected: str) -> None:
    assert mask_codes(text) == expected


def test_codes_are_masked_in_groups_but_not_in_private_chats() -> None:
    e = entry(message="Your code is 482913, call 79991234567")
    in_group = render_last(fresh(e), PHONE, view(group=True))
    in_private = render_last(fresh(e), PHONE, view(group=False))
    assert "482913" not in in_group
    assert "••••••" in in_group
    assert "79991234567" in in_group
    assert "482913" in in_private
    for render in (render_history, lambda lk, _p, v: render_recent(lk, v)):
        group_list = render(fresh([e]), PHONE, view(group=True))
        assert "482913" not in group_list
        assert "••••••" in group_list


# --- escaping -------------------------------------------------------------------------------


def test_sms_center_text_is_escaped_everywhere() -> None:
    hostile = entry(
        status=20,
        err=6,
        message="<b>bold</b> & <script>alert(1)</script>",
        sender="<script>",
        operator="A&B <b>",
        region="<i>",
        country="<code>Land",
        phone="7999<b>",
    )
    window = Window((hostile,), since=NOW - 3600, covered_since=NOW - 3600, complete=True)
    answers = [
        render_last(fresh(hostile), PHONE, view()),
        render_history(fresh([hostile]), PHONE, view()),
        render_recent(fresh([hostile]), view()),
        render_failed(fresh(window), 1, view()),
        render_status(fresh(MessageStatus(hostile, comment="<b>x & y")), view()),
    ]
    for answer in answers:
        assert_sendable(answer)
        assert "<script>" not in answer
    last = answers[0]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in last
    assert "<code>&lt;script&gt;</code>" in last
    assert "A&amp;B &lt;b&gt;" in last
    assert "&lt;i&gt;, &lt;code&gt;Land" in last
    assert "A&amp;B &lt;b&gt; — <b>1</b> of 1" in answers[3]
    assert "&lt;b&gt;x &amp; y" in answers[4]


def test_long_text_is_cut_before_escaping() -> None:
    e = entry(message="&" * 2000)
    answer = render_last(fresh(e), PHONE, view())
    assert_sendable(answer)
    assert "&amp;" * 499 + "…" in answer
    assert "&amp;" * 500 not in answer


def test_surrogates_controls_and_bidi_overrides_are_neutralised() -> None:
    e = entry(message="a\ud800b\x00c\u202ed\u200fe", sender="S\u2066X\x07")
    answer = render_last(fresh(e), PHONE, view())
    assert_sendable(answer)
    assert "a\ufffdb c" in answer
    assert "\u202e" not in answer
    assert "\u2066" not in answer
    assert "\u200f" in answer  # a plain direction mark reorders nothing of ours
    assert "<code>SX</code>" in answer


# --- /last and /status ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "verdict"),
    [
        (Lang.EN, "↻ Resend: can succeed later (temporary)"),
        (Lang.RU, "↻ Повтор: может пройти позже (временная причина)"),
    ],
)
def test_failed_entry_shows_error_help_and_resend_verdict(lang: Lang, verdict: str) -> None:
    answer = render_last(fresh(entry(status=20, err=6)), PHONE, view(lang))
    assert_sendable(answer)
    offline = error_info(6)
    status = "impossible to deliver" if lang is Lang.EN else "невозможно доставить"
    assert answer.split("\n")[1] == f"❌ <b>{status}</b> (20)"
    assert f"<b>{offline.name(lang)}</b>" in answer
    assert ("Error 6:" if lang is Lang.EN else "Ошибка 6:") in answer
    assert offline.help(lang) in answer
    assert verdict in answer


@pytest.mark.parametrize(
    ("status", "err", "lang", "verdict"),
    [
        (20, 1, Lang.EN, "✖ Resend won't help until the cause is fixed (permanent)"),
        (20, 1, Lang.RU, "✖ Повтор не поможет, пока причину не устранят (постоянная)"),
        (20, 255, Lang.EN, "❓ Resend: can't tell whether it will help (cause unknown)"),
        (20, 255, Lang.RU, "❓ Повтор: неясно, поможет ли (причина неизвестна)"),
        (24, None, Lang.EN, "↻ Resend: can succeed later (temporary)"),
    ],
)
def test_resend_verdicts(status: int, err: int | None, lang: Lang, verdict: str) -> None:
    answer = render_last(fresh(entry(status=status, err=err)), PHONE, view(lang))
    assert verdict in answer


def test_failure_without_error_code_explains_the_status() -> None:
    answer = render_last(fresh(entry(status=24, err=None)), PHONE, view())
    assert "❌ <b>not enough money</b> (24)" in answer
    assert "top it up" in answer
    assert "Error" not in answer


def test_last_shows_every_field() -> None:
    e = entry(status=1, country="Kazakhstan", region="Almaty", sms_cnt=2, message="Hi there")
    answer = render_last(fresh(e), PHONE, view())
    assert_sendable(answer)
    lines = answer.split("\n")
    assert lines[0] == f"📱 <b>{SHOWN_PHONE}</b>"
    assert lines[1] == "✅ <b>delivered</b> (1)"
    for expected in [
        "Sent: 14:03 (12 minutes ago)",
        "Status changed: 14:05 (10 minutes ago)",
        "Operator: MTS",
        "Region: Almaty, Kazakhstan",
        "Sender: <code>SMSC</code>",
        "Parts: 2 · Cost: 3.50",
        "id <code>12</code> · int_id <code>345678</code>",
        "💬 Hi there",
    ]:
        assert expected in lines
    assert "Resend" not in answer  # the question does not arise for a delivered message
    assert lines[-1] == "<i>as of 14:14:55 MSK</i>"


def test_last_hides_russia_and_unknown_statuses_use_smsc_name() -> None:
    answer = render_last(fresh(entry(status=77, status_name="Странный <x>")), PHONE, view())
    assert "Region: Moscow\n" in answer
    assert "❔ <b>unknown status</b> (77)" in answer
    assert "SMS Center calls it: Странный &lt;x&gt;" in answer


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (Lang.EN, f"No messages to <b>{SHOWN_PHONE}</b> found in the last six months."),
        (Lang.RU, f"Сообщений на <b>{SHOWN_PHONE}</b> за последние полгода не найдено."),
    ],
)
def test_last_without_messages(lang: Lang, expected: str) -> None:
    answer = render_last(fresh(None), PHONE, view(lang))
    assert answer.startswith(expected + "\n\n<i>")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            Lang.EN,
            f"❔ SMS Center knows no message with id <code>5</code> for <b>{SHOWN_PHONE}</b>.",
        ),
        (
            Lang.RU,
            f"❔ В SMS Center нет сообщения с id <code>5</code> для номера <b>{SHOWN_PHONE}</b>.",
        ),
    ],
)
def test_status_not_found(lang: Lang, expected: str) -> None:
    status = MessageStatus(HistoryEntry(status=-3, id=5, phone=PHONE))
    assert render_status(fresh(status), view(lang)).split("\n")[0] == expected


def test_status_found_renders_like_last() -> None:
    sent_two_minutes_ago = entry(status=0, operator="", send_timestamp=int(NOW - 120))
    status = MessageStatus(sent_two_minutes_ago, flag=0, comment="queued")
    answer = render_status(fresh(status), view())
    assert_sendable(answer)
    assert "⏳ <b>passed to operator</b> (0)" in answer
    assert "ℹ️ the operator has it" in answer
    assert "Comment: queued" in answer
    assert "Operator:" not in answer


# --- advice that depends on age ----------------------------------------------------------

OVERDUE_REPORT = {
    Lang.EN: "💡 the operator has had it for long with no delivery report — the report is "
    "overdue; resending is reasonable",
    Lang.RU: "💡 сообщение давно у оператора, а отчёта о доставке нет — отчёт запаздывает; "
    "разумно отправить снова",
}
OVERDUE_QUEUED = {
    Lang.EN: "💡 still not passed to the operator, long after its send time — it is stuck; "
    "resending is reasonable",
    Lang.RU: "💡 оператору так и не передано, хотя время отправки давно прошло — сообщение "
    "застряло; разумно отправить снова",
}
WAIT = {
    0: "ℹ️ the operator has it, no delivery report yet — wait a little",
    -1: "ℹ️ queued or scheduled, not yet passed to the operator",
}


@pytest.mark.parametrize("lang", list(Lang))
def test_passed_to_operator_two_hours_ago_says_the_report_is_overdue(lang: Lang) -> None:
    old = entry(status=0, send_timestamp=int(NOW - 2 * 3600), last_timestamp=int(NOW - 2 * 3600))
    for answer in (
        render_last(fresh(old), PHONE, view(lang)),
        render_status(fresh(MessageStatus(old, flag=0)), view(lang)),
    ):
        lines = answer.split("\n")
        assert lines[2] == OVERDUE_REPORT[lang], answer
        assert "wait" not in answer
        assert "подождите" not in answer


@pytest.mark.parametrize("lang", list(Lang))
def test_waiting_to_be_sent_long_past_its_send_time_says_it_is_stuck(lang: Lang) -> None:
    stuck = entry(status=-1, send_timestamp=int(NOW - 3600), last_timestamp=int(NOW - 3600))
    answer = render_last(fresh(stuck), PHONE, view(lang))
    assert answer.split("\n")[2] == OVERDUE_QUEUED[lang], answer


@pytest.mark.parametrize(
    ("status", "sent_before_as_of", "overdue"),
    [
        (0, 600, False),  # the usual delivery time: still worth waiting
        (0, 601, True),
        (-1, 600, False),
        (-1, 601, True),
        (-1, -3600, False),  # scheduled for an hour from now
    ],
)
def test_overdue_starts_ten_minutes_after_sending(
    status: int, sent_before_as_of: int, overdue: bool
) -> None:
    message = entry(status=status, send_timestamp=int(NOW - 5 - sent_before_as_of))
    advice = (OVERDUE_REPORT if status == 0 else OVERDUE_QUEUED)[Lang.EN]
    expected = advice if overdue else WAIT[status]
    assert render_last(fresh(message), PHONE, view()).split("\n")[2] == expected


def test_overdue_is_judged_at_the_answers_as_of_time() -> None:
    """A held answer fetched five minutes after sending says "wait", even an hour later."""
    sent = NOW - 3600
    message: HistoryEntry | None = entry(status=0, send_timestamp=int(sent))
    held = Lookup(message, Origin.STALE, sent + 300, held_back=HeldBack.UPSTREAM)
    assert render_last(held, PHONE, view()).split("\n")[2] == WAIT[0]
    fetched_later = Lookup(message, Origin.FRESH, sent + 900)
    assert render_last(fetched_later, PHONE, view()).split("\n")[2] == OVERDUE_REPORT[Lang.EN]


@pytest.mark.parametrize("status", [1, 3, 20, -2])
def test_only_messages_in_transit_can_be_overdue(status: int) -> None:
    old = entry(status=status, send_timestamp=int(NOW - 86400), err=6)
    assert "resending is reasonable" not in render_last(fresh(old), PHONE, view())


# --- freshness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lookup", "lang", "expected"),
    [
        (Lookup(0, Origin.FRESH, NOW - 5), Lang.EN, "<i>as of 14:14:55 MSK</i>"),
        (Lookup(0, Origin.FRESH, NOW - 5), Lang.RU, "<i>данные на 14:14:55 MSK</i>"),
        (Lookup(0, Origin.CACHE, NOW - 5), Lang.EN, "<i>as of 14:14:55 MSK · from cache</i>"),
        (Lookup(0, Origin.CACHE, NOW - 5), Lang.RU, "<i>данные на 14:14:55 MSK · из кэша</i>"),
        (
            Lookup(0, Origin.STALE, NOW - 1500, HeldBack.BUDGET, NOW + 1000),
            Lang.EN,
            "<i>as of 13:50:00 MSK (25 minutes ago) · SMS Center quota: fresh data after 14:32</i>",
        ),
        (
            Lookup(0, Origin.STALE, NOW - 1500, HeldBack.BUDGET, NOW + 1000),
            Lang.RU,
            "<i>данные на 13:50:00 MSK (25 минут назад) · квота SMS Center: "
            "свежие данные после 14:32</i>",
        ),
        (
            Lookup(0, Origin.STALE, NOW - 1500, HeldBack.BACKOFF, NOW + 60),
            Lang.EN,
            "<i>as of 13:50:00 MSK (25 minutes ago) · SMS Center asked us to slow down: "
            "fresh data after 14:16</i>",
        ),
        (
            Lookup(0, Origin.STALE, NOW - 1500, HeldBack.BACKOFF, NOW + 60),
            Lang.RU,
            "<i>данные на 13:50:00 MSK (25 минут назад) · SMS Center просит подождать: "
            "свежие данные после 14:16</i>",
        ),
        (
            Lookup(0, Origin.STALE, NOW - 1500, HeldBack.UPSTREAM),
            Lang.EN,
            "<i>as of 13:50:00 MSK (25 minutes ago) · SMS Center is not answering, "
            "showing the last data held</i>",
        ),
        (
            Lookup(0, Origin.STALE, NOW - 1500, HeldBack.UPSTREAM),
            Lang.RU,
            "<i>данные на 13:50:00 MSK (25 минут назад) · SMS Center не отвечает, "
            "показаны последние полученные данные</i>",
        ),
        (
            Lookup(0, Origin.STALE, NOW - 90000, HeldBack.UPSTREAM),
            Lang.EN,
            "<i>as of 24.11 13:15:00 MSK (1 day ago) · SMS Center is not answering, "
            "showing the last data held</i>",
        ),
    ],
)
def test_freshness_variants(lookup: Lookup[int], lang: Lang, expected: str) -> None:
    assert freshness(lookup, view(lang)) == expected


def test_every_answer_ends_with_the_freshness_line() -> None:
    lookup: Lookup[HistoryEntry | None] = Lookup(entry(), Origin.CACHE, NOW - 5)
    assert render_last(lookup, PHONE, view()).endswith("\n\n<i>as of 14:14:55 MSK · from cache</i>")


# --- lists and length -----------------------------------------------------------------------


def _shown_and_more(answer: str) -> tuple[int, int]:
    more = re.search(r"… (\d+) more", answer)
    return answer.count("💬"), int(more.group(1)) if more else 0


@pytest.mark.parametrize("body", ["x" * 4000, "&" * 4000, "😀" * 4000, "<b>" * 1400])
def test_twenty_long_messages_fit_and_stay_well_formed(body: str) -> None:
    entries = [entry(message=body, int_id=i) for i in range(20)]
    answer = render_history(fresh(entries), PHONE, view())
    assert_sendable(answer)
    assert "The last 20 messages, newest first" in answer
    # Issue 15, item 7: every message announced is shown, texts shortened to make room.
    assert answer.count("id <code>12</code>") == 20
    assert "more" not in answer
    assert answer.endswith("<i>as of 14:14:55 MSK</i>")


def test_history_blocks_are_compact_and_newest_first() -> None:
    entries = [
        entry(status=20, err=6, message="first " * 50, send_timestamp=int(NOW - 60)),
        entry(status=1, message="second", send_timestamp=int(NOW - 7200)),
    ]
    answer = render_history(fresh(entries), PHONE, view(Lang.RU))
    assert_sendable(answer)
    blocks = answer.split("\n\n")
    assert blocks[0] == f"📱 <b>{SHOWN_PHONE}</b>\nПоследние 2 сообщения, сначала новые"
    assert blocks[1].split("\n")[:2] == [
        "<b>14:14 (1 минуту назад)</b> · id <code>12</code>",
        "❌ невозможно доставить (20) · абонент не в сети (6)",
    ]
    assert len(blocks[1].split("\n")[2]) <= len("💬 ") + 120
    assert blocks[1].endswith("…")
    assert (
        blocks[2]
        == "<b>12:15 (2 часа назад)</b> · id <code>12</code>\n✅ доставлено (1)\n💬 second"
    )


def test_recent_fifty_long_messages_fit() -> None:
    """Issue 15, item 7: /recent 50 shows the 50 it announces (texts shortened to fit)."""
    entries = [entry(message="&<" * 3000, phone=f"7999123{i:04d}") for i in range(50)]
    answer = render_recent(fresh(entries), view())
    assert_sendable(answer)
    assert answer.startswith("<b>The account's last 50 messages</b>")
    assert answer.count("id <code>12</code>") == 50 and "more" not in answer
    # Fifty two-line blocks would not fit: one line each.
    first = answer.split("\n\n")[1].split("\n")
    assert first[0] == "✅ <b>14:03</b> · +7 999 123-00-00 · id <code>12</code> · delivered (1)"
    assert len(first) == 50


@pytest.mark.parametrize("lang", list(Lang))
def test_recent_fifty_failures_with_long_fields_show_all_fifty_one_line_each(lang: Lang) -> None:
    entries = [
        entry(
            status=20,
            err=6,
            id=10**17 + i,
            message="Ваш код подтверждения: 4821. " * 20,
            phone=f"7999123{i:04d}",
            send_timestamp=int(NOW - 3 * 86400 - i * 60),
        )
        for i in range(50)
    ]
    answer = render_recent(fresh(entries), view(lang))
    assert_sendable(answer)
    assert answer.count("id 1000000000000") == 50
    assert "50" in answer.split("\n", 1)[0] and "…" not in answer
    line = answer.split("\n\n")[1].split("\n")[0]
    assert line == "❌ <b>22.11 14:15</b> · +7 999 123-00-00 · id 100000000000000000 · 20/6"


def test_recent_empty() -> None:
    answer = render_recent(fresh([]), view())
    assert answer.startswith("No messages sent in the last 2 days.")


# --- /failed --------------------------------------------------------------------------------


def _window(complete: bool = True) -> Window:
    def sent(n: int, status: int, err: int | None, operator: str, ago: int) -> list[HistoryEntry]:
        return [
            entry(status=status, err=err, operator=operator, send_timestamp=int(NOW - ago - i))
            for i in range(n)
        ]

    entries = [
        *sent(3, 20, 6, "MTS", 100),
        *sent(2, 20, 1, "Beeline", 200),
        *sent(1, 3, None, "MTS", 300),
        *sent(1, 23, 251, "Tele2", 50),
        *sent(1, 20, 0, "Megafon", 400),
        *sent(4, 1, 0, "MTS", 10),
        *sent(2, 1, 0, "Beeline", 20),
        *sent(1, 0, None, "Tele2", 30),
    ]
    covered = NOW - 3600 if complete else NOW - 1800
    return Window(tuple(entries), since=NOW - 3600, covered_since=covered, complete=complete)


def _section(answer: str, title: str) -> list[str]:
    block = next(b for b in answer.split("\n\n") if b.startswith(f"<b>{title}</b>"))
    return block.split("\n")[1:]


def test_failed_counts_by_reason_and_operator() -> None:
    answer = render_failed(fresh(_window(), NOW), 1, view())
    assert_sendable(answer)
    assert answer.startswith("<b>Undelivered in the last 1 h: 8 of 15 sent</b>\n\n")
    assert _section(answer, "By reason") == [
        "• impossible to deliver (20) · subscriber offline (6) — <b>3</b>",
        "• impossible to deliver (20) · subscriber does not exist (1) — <b>2</b>",
        "• expired (3) — <b>1</b>",
        "• impossible to deliver (20) — <b>1</b>",
        "• prohibited (23) · limit per number exceeded (251) — <b>1</b>",
    ]
    assert _section(answer, "By operator") == [
        "• MTS — <b>4</b> of 8",
        "• Beeline — <b>2</b> of 4",
        "• Megafon — <b>1</b> of 1",
        "• Tele2 — <b>1</b> of 2",
    ]
    newest = answer.split("<b>Newest</b>\n", 1)[1].split("\n\n<i>")[0].split("\n\n")
    assert len(newest) == 5
    assert newest[0] == (
        "<b>14:14 (just now)</b> · +7 999 123-45-67 · id <code>12</code>\n"
        "❌ prohibited (23) · limit per number exceeded (251)"
    )
    assert "only those sent since" not in answer


def test_failed_in_russian_and_newest_count() -> None:
    answer = render_failed(fresh(_window(), NOW), 0.5, view(Lang.RU), newest=2)
    assert answer.startswith("<b>Не доставлено за 0,5 ч: 8 из 15</b>")
    assert "• MTS — <b>4</b> из 8" in answer
    assert answer.count("❌") == 2


def test_failed_incomplete_window_says_what_is_covered() -> None:
    en = render_failed(fresh(_window(complete=False), NOW), 1, view())
    ru = render_failed(fresh(_window(complete=False), NOW), 1, view(Lang.RU))
    assert (
        "⚠️ Only messages sent since 13:45 are counted: SMS Center gives 1000 messages per "
        "request, and this hour's requests for older ones are spent." in en
    )
    assert "Учтены только сообщения, отправленные с 13:45" in ru
    assert "отдаёт 1000 сообщений за запрос" in ru


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (Lang.EN, "✅ No undelivered messages in the last 2 h (3 sent)."),
        (Lang.RU, "✅ За 2 ч недоставленных нет (отправлено 3 сообщения)."),
    ],
)
def test_failed_with_no_failures_reassures(lang: Lang, expected: str) -> None:
    window = Window(
        (entry(status=1), entry(status=0), entry(status=None)),
        since=NOW - 7200,
        covered_since=NOW - 7200,
        complete=True,
    )
    answer = render_failed(fresh(window, NOW), 2, view(lang))
    assert answer.split("\n")[0] == expected


def test_failed_caps_long_lists_with_an_other_line() -> None:
    entries = tuple(
        entry(status=20, err=err, operator=f"Op{err}", send_timestamp=int(NOW - err))
        for err in range(1, 13)
        for _ in range(err)
    )
    window = Window(entries, since=NOW - 3600, covered_since=NOW - 3600, complete=True)
    answer = render_failed(fresh(window, NOW), 1, view())
    reasons = _section(answer, "By reason")
    assert len(reasons) == 8
    assert reasons[0].endswith("— <b>12</b>")
    assert reasons[-1] == "• other — <b>" + str(sum(range(1, 6))) + "</b>"


# --- fit ------------------------------------------------------------------------------------


def test_fit_keeps_everything_that_fits() -> None:
    assert fit(["a", "", "b"]) == "a\n\nb"


def test_fit_drops_trailing_blocks_and_counts_them() -> None:
    assert fit(["a" * 10, "b" * 10, "c" * 10], limit=25) == "a" * 10 + "\n\n… 2 more"
    assert fit(["a" * 10, "b" * 10, "c" * 10], limit=25, lang=Lang.RU) == "a" * 10 + "\n\n… ещё 2"


def test_fit_shortens_a_block_without_breaking_tags_or_entities() -> None:
    block = "<b>" + "&amp;" * 100 + "</b> <code>" + "x" * 500 + "</code>"
    cut = fit([block], limit=101)
    assert len(cut) <= 101
    assert_well_formed(cut)
    assert cut.endswith("…</b>")
    cut = fit(["head", block], limit=700)
    assert cut.startswith("head\n\n<b>")
    assert cut.endswith("…</code>")
    assert_well_formed(cut)


_HTML_BLOCKS = st.lists(
    st.tuples(st.sampled_from(["", "b", "i", "code"]), st.text(max_size=300)).map(
        lambda pair: (
            f"<{pair[0]}>{escape(pair[1], quote=False)}</{pair[0]}>"
            if pair[0]
            else escape(pair[1], quote=False)
        )
    ),
    max_size=20,
)


@given(blocks=_HTML_BLOCKS, limit=st.integers(min_value=1, max_value=600))
@settings(max_examples=200, deadline=None)
def test_fit_property(blocks: list[str], limit: int) -> None:
    result = fit(blocks, limit)
    assert len(result.encode("utf-16-le", "surrogatepass")) // 2 <= limit
    assert_well_formed(result)


# --- property: hostile SMS Center data never breaks rendering ------------------------------

_NASTY = st.sampled_from(
    [
        "<",
        ">",
        "&",
        "&amp",
        "<b>",
        "</i>",
        "\u202e",
        "\u200f",
        "\u2066",
        "\x00",
        "\x1b",
        "\r\n",
        "\n",
        "\ud800",
        "😀",
        "👩‍👩‍👧",
        "1234",
        "123456",
        "\u0301",
        "\ufeff",
        "؀",
        "א",
    ]
)
_TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(_NASTY, st.text(max_size=5)), max_size=200).map("".join),
    st.text(max_size=5).map(lambda s: s * 1000),
)
_INTS = st.one_of(st.none(), st.integers(min_value=-5, max_value=300), st.integers())
_ENTRIES = st.builds(
    HistoryEntry,
    status=st.one_of(
        st.none(), st.sampled_from([-3, -2, -1, 0, 1, 2, 3, 4, 20, 22, 23, 24, 25, 99])
    ),
    err=st.one_of(st.none(), st.sampled_from([0, 1, 6, 220, 245, 255, 999])),
    send_timestamp=st.one_of(st.none(), st.integers(min_value=0, max_value=int(NOW) + 10**6)),
    last_timestamp=st.one_of(st.none(), st.integers()),
    phone=st.one_of(st.just(PHONE), _TEXT, st.text("0123456789", max_size=40)),
    country=_TEXT,
    operator=_TEXT,
    region=_TEXT,
    sender=_TEXT,
    status_name=_TEXT,
    message=_TEXT,
    cost=st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False)),
    id=_INTS,
    int_id=_INTS,
    sms_cnt=_INTS,
)


@given(
    entries=st.lists(_ENTRIES, max_size=25),
    lang=st.sampled_from(list(Lang)),
    group=st.booleans(),
    comment=_TEXT,
    origin=st.sampled_from(list(Origin)),
    held=st.one_of(st.none(), st.sampled_from(list(HeldBack))),
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_hostile_data_never_breaks_rendering(
    entries: list[HistoryEntry],
    lang: Lang,
    group: bool,
    comment: str,
    origin: Origin,
    held: HeldBack | None,
) -> None:
    v = view(lang, group=group)
    stale_at = NOW + 600 if held else None

    def look(value: T) -> Lookup[T]:
        return Lookup(value, origin, NOW - 100, held, stale_at)

    first = entries[0] if entries else None
    window = Window(tuple(entries), since=NOW - 3600, covered_since=NOW - 600, complete=False)
    answers = [
        render_last(look(first), PHONE, v),
        render_history(look(entries), PHONE, v),
        render_recent(look(entries * 2), v),
        render_failed(look(window), 1, v),
        render_status(look(MessageStatus(first or HistoryEntry(), comment=comment)), v),
    ]
    for answer in answers:
        assert_sendable(answer)
        assert "<script" not in answer


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (Lang.EN, f"No older messages to <b>{SHOWN_PHONE}</b>."),
        (Lang.RU, f"Более ранних сообщений на <b>{SHOWN_PHONE}</b> нет."),
    ],
)
def test_an_empty_older_page_says_there_are_no_older_messages(lang: Lang, expected: str) -> None:
    # A number with an exactly full last page: "Older" finds nothing more, which is not
    # "no messages in six months".
    answer = render_history(fresh([]), PHONE, view(lang), older=True)
    assert answer.split("\n\n")[0] == expected
    first = render_history(fresh([]), PHONE, view(lang))
    assert "No older" not in first and "Более ранних" not in first


# --- money, the time zone, and a status that changed when it was sent (issue 15, item 16) ----


def test_money_has_a_decimal_comma_in_russian_and_no_invented_currency() -> None:
    e = entry(status=1, sms_cnt=2)  # cost 3.50
    russian = render_last(fresh(e), PHONE, view(Lang.RU))
    english = render_last(fresh(e), PHONE, view())
    assert "Частей: 2 · Стоимость: 3,50" in russian.split("\n")
    assert "Parts: 2 · Cost: 3.50" in english.split("\n")
    for answer in (russian, english):
        assert not re.search(r"₽|руб|RUB|\$|€", answer)  # SMS Center's answer names none


def test_as_of_names_the_time_zone_once_per_answer() -> None:
    entries = [entry(status=1, send_timestamp=int(NOW - 60 * i)) for i in range(5)]
    for answer in (
        render_history(fresh(entries), PHONE, view()),
        render_recent(fresh(entries), view(Lang.RU)),
        render_last(fresh(entries[0]), PHONE, view()),
    ):
        assert answer.count("MSK") == 1
        assert re.search(r"<i>(as of|данные на) 14:14:55 MSK", answer)
    utc = render_last(fresh(entries[0]), PHONE, view(tz=ZoneInfo("UTC")))
    assert utc.endswith("<i>as of 11:14:55 UTC</i>")


def test_status_changed_is_left_out_when_it_reads_like_sent() -> None:
    same_minute = entry(status=1, send_timestamp=int(NOW - 720), last_timestamp=int(NOW - 700))
    answer = render_last(fresh(same_minute), PHONE, view())
    assert "Sent: 14:03 (12 minutes ago)" in answer and "Status changed" not in answer
    later = entry(status=1, send_timestamp=int(NOW - 720), last_timestamp=int(NOW - 600))
    assert "Status changed: 14:05 (10 minutes ago)" in render_last(fresh(later), PHONE, view())
    russian = render_last(fresh(same_minute), PHONE, view(Lang.RU))
    assert "Отправлено: 14:03" in russian and "Статус изменён" not in russian
