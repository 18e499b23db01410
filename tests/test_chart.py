"""The failure chart: what is plotted equals what /failed counts, in bins of a sixth to a twelfth
of the period, at most five reasons plus "other"; the PNG is a real, decodable PNG."""

from __future__ import annotations

import html
import io
import re
from zoneinfo import ZoneInfo

import pytest
from matplotlib.image import imread

from bot.fetch import Lookup, Origin, Window
from bot.smsc import HistoryEntry
from bot.text import Lang, View, render_failed
from bot.text.chart import (
    MAX_REASONS,
    Failure,
    bin_width,
    chart_data,
    failures_of,
    render_png,
)

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = 1_780_000_000.0
HOUR = 3600.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def entry(i: int, status: int, err: int | None, ago: float) -> HistoryEntry:
    at = int(NOW - ago)
    return HistoryEntry(
        id=i,
        int_id=i,
        status=status,
        err=err,
        phone=f"7903111{i:04d}",
        operator="МТС" if i % 2 else "Билайн",
        send_timestamp=at,
        last_timestamp=at + 30,
    )


def window(entries: list[HistoryEntry]) -> Lookup[Window]:
    since = NOW - HOUR
    return Lookup(Window(tuple(entries), since, since, True), Origin.FRESH, NOW)


def failed_counts(text: str) -> dict[str, int]:
    """/failed's "By reason" block, read back: label -> count (the "other" line under "")."""
    block = text.split("<b>By reason</b>\n", 1)[1].split("\n\n", 1)[0]
    counts: dict[str, int] = {}
    for line in block.splitlines():
        found = re.fullmatch(r"• (.*) — <b>(\d+)</b>", line)
        assert found, line
        label = found.group(1)
        counts["" if label.startswith("other") else html.unescape(label)] = int(found.group(2))
    return counts


def mixed(reasons: int, per: int = 3) -> list[HistoryEntry]:
    """``reasons`` different reasons, the k-th failing ``per + k`` times, spread over the hour,
    with deliveries and messages in progress between them."""
    found: list[HistoryEntry] = []
    errs = [None, 6, 1, 11, 255, 13, 8, 9, 10]
    i = 0
    for k in range(reasons):
        status = 20 if k % 2 == 0 else 3
        for j in range(per + k):
            i += 1
            found.append(entry(i, status, errs[k], ago=(i * 97 + j * 31) % 3500))
    for j in range(20):
        i += 1
        found.append(entry(i, 1 if j % 3 else 0, None, ago=j * 170))
    return found


@pytest.mark.parametrize("lang", list(Lang))
def test_the_plotted_counts_are_the_counts_failed_shows(lang: Lang) -> None:
    entries = mixed(4)
    view = View(lang, MOSCOW, NOW, mask_codes=False)
    lookup = window(entries)
    data = chart_data(failures_of(entries), NOW - HOUR, NOW, view, span="1 h")
    shown = failed_counts(render_failed(lookup, 1, View(Lang.EN, MOSCOW, NOW, mask_codes=False)))
    failed = sum(1 for e in entries if e.status in (3, 20))
    assert data.total == failed == sum(shown.values())
    if lang is Lang.EN:
        assert data.by_label() == shown
    assert [sum(s.counts) for s in data.series] == sorted(shown.values(), reverse=True)


def test_more_than_six_reasons_keep_five_and_other_adds_up() -> None:
    entries = mixed(8)
    view = View(Lang.EN, MOSCOW, NOW, mask_codes=False)
    data = chart_data(failures_of(entries), NOW - HOUR, NOW, view, span="1 h")
    labels = [s.label for s in data.series]
    assert len(labels) == MAX_REASONS + 1
    assert labels[-1] == "other reasons"
    by_label = data.by_label()
    ranked = sorted(failed_counts(render_failed(window(entries), 1, view)).items(),
                    key=lambda item: -item[1])  # fmt: skip
    # /failed lists up to 8 reasons: the chart names its five largest and sums the rest.
    assert {k: by_label[k] for k in labels[:MAX_REASONS]} == dict(ranked[:MAX_REASONS])
    assert by_label["other reasons"] == sum(n for _, n in ranked[MAX_REASONS:])


def test_six_reasons_are_all_named() -> None:
    data = chart_data(
        failures_of(mixed(6)), NOW - HOUR, NOW, View(Lang.EN, MOSCOW, NOW, False), span="1 h"
    )
    assert len(data.series) == 6
    assert "other reasons" not in data.by_label()


@pytest.mark.parametrize(
    ("period", "width"),
    [(60, 60), (300, 60), (900, 120), (3600, 300), (86400, 7200), (1440 * 60, 7200)],
)
def test_bins_are_a_sixth_to_a_twelfth_of_the_period_and_at_least_a_minute(
    period: float, width: float
) -> None:
    assert bin_width(period) == width
    assert bin_width(period) >= 60
    if period >= 6 * 60:
        assert period / 12 <= bin_width(period) <= period / 6


@pytest.mark.parametrize("minutes", [1, 7, 15, 45, 90, 1440])
def test_every_period_has_six_to_twelve_bins_when_a_minute_allows(minutes: int) -> None:
    view = View(Lang.EN, MOSCOW, NOW, mask_codes=False)
    period = minutes * 60.0
    data = chart_data([Failure(NOW - 1, 20, 6)], NOW - period, NOW, view, span="x")
    bins = len(data.ticks)
    assert len(data.edges) == bins + 1
    assert data.edges[-1] == NOW
    assert data.edges[0] <= NOW - period
    assert 6 <= bins <= 12 or (bins < 6 and bin_width(period) == 60)


def test_a_failure_lands_in_its_bin_and_none_is_lost() -> None:
    view = View(Lang.EN, MOSCOW, NOW, mask_codes=False)
    failures = [
        Failure(NOW - 10, 20, 6),  # the last bin
        Failure(NOW - HOUR + 10, 20, 6),  # the first
        Failure(NOW - 2 * HOUR, 20, 6),  # before the period: the first, not dropped
        Failure(None, 20, 6),  # no time: the last
    ]
    data = chart_data(failures, NOW - HOUR, NOW, view, span="1 h")
    (band,) = data.series
    assert band.counts[0] == 2
    assert band.counts[-1] == 2
    assert data.total == 4


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (Lang.EN, ("Undelivered SMS by reason", "Europe/Moscow", "1 h")),
        (Lang.RU, ("Недоставленные SMS по причинам", "Europe/Moscow", "1 ч")),
    ],
)
def test_the_title_says_what_and_the_time_zone(lang: Lang, words: tuple[str, ...]) -> None:
    view = View(lang, MOSCOW, NOW, mask_codes=False)
    span = "1 h" if lang is Lang.EN else "1 ч"
    data = chart_data([Failure(NOW - 5, 20, 6)], NOW - HOUR, NOW, view, span=span)
    for word in words:
        assert word in data.title
    # Ticks are local times (Moscow is UTC+3): the last bin starts 5 minutes before NOW.
    assert data.ticks[-1] == "23:21"


@pytest.mark.parametrize("lang", list(Lang))
def test_the_png_is_a_real_png(lang: Lang) -> None:
    view = View(lang, MOSCOW, NOW, mask_codes=False)
    data = chart_data(failures_of(mixed(8)), NOW - HOUR, NOW, view, span="1 h")
    png = render_png(data, lang)
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 1000
    pixels = imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    assert (width, height) == (800, 750)


def test_an_empty_chart_still_draws() -> None:
    view = View(Lang.EN, MOSCOW, NOW, mask_codes=False)
    png = render_png(chart_data([], NOW - HOUR, NOW, view, span="1 h"), Lang.EN)
    assert png.startswith(PNG_MAGIC)
