"""Charts of failures (PRODUCT.md §10): failed messages over a period, stacked by reason, as a PNG.

Two steps, so a test can check what is plotted without reading pixels:

- ``chart_data`` turns failures (``Failure``: when, status, err) over ``[since, until]`` into
  ``ChartData``: bins of a sixth to a twelfth of the period and at least a minute, at most
  ``MAX_REASONS`` reasons (largest first, labelled as ``/failed`` labels them) plus "other".
  Every failure handed in is counted once: a time outside the period (or none) falls into its
  nearest bin, so the bars add up to the count the text beside them says.
- ``render_png`` draws that with matplotlib's Agg canvas (a ``Figure`` of its own, no pyplot and
  no global state), large enough to read on a phone, the time zone in the title. It is slow
  (a few hundred milliseconds): callers run it off the event loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import html
import io
import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.fetch import Lookup, Window
from bot.smsc import HistoryEntry
from bot.text import catalogue_answers as phrases
from bot.text.codes import FAILURE_STATUSES
from bot.text.fitting import fit
from bot.text.freshness import as_of_phrase
from bot.text.moments import span_hours
from bot.text.phrases import Lang
from bot.text.render import reason_label
from bot.text.view import View
from bot.watch import Alert, Rule

__all__ = [
    "MAX_CAPTION",
    "MAX_REASONS",
    "ChartData",
    "Failure",
    "Series",
    "alert_chart",
    "bin_width",
    "chart_data",
    "failed_chart",
    "failures_of",
    "render_png",
]

#: Telegram's limit for a photo's caption (characters after parsing).
MAX_CAPTION: Final = 1024
#: Reasons drawn by name; the rest are one "other" band.
MAX_REASONS: Final = 5
#: Bin widths that read well on a clock (seconds), smallest first.
_NICE_WIDTHS: Final = (60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600)
_MIN_WIDTH: Final = 60
# Colour-blind-safe (Okabe-Ito), then grey for "other".
_COLOURS: Final = ("#D55E00", "#0072B2", "#E69F00", "#009E73", "#CC79A7")
_OTHER_COLOUR: Final = "#999999"
# matplotlib promises no thread safety: drawings in worker threads take turns (they are rare).
_DRAWING: Final = threading.Lock()


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed message: when (None: unknown), its status and error."""

    at: float | None
    status: int | None
    err: int | None


@dataclass(frozen=True, slots=True)
class Series:
    """One band of the stack: a reason's label (plain text) and its count in each bin."""

    label: str
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChartData:
    """What is plotted: bin edges (``len(series[i].counts) + 1`` of them, seconds), the label
    under each bin, the bands (largest first, "other" last) and the title (time zone in it)."""

    title: str
    edges: tuple[float, ...]
    ticks: tuple[str, ...]
    series: tuple[Series, ...]

    @property
    def total(self) -> int:
        """Failures plotted."""
        return sum(sum(s.counts) for s in self.series)

    def by_label(self) -> dict[str, int]:
        """Failures plotted per band."""
        return {s.label: sum(s.counts) for s in self.series}


def failures_of(entries: Iterable[HistoryEntry]) -> list[Failure]:
    """The failed ones of ``entries`` (as ``/failed`` picks them), at their send time (the
    time ``/failed``'s window is cut by), else their status time."""
    return [
        Failure(entry.sent_at or entry.changed_at, entry.status, entry.err)
        for entry in entries
        if entry.status in FAILURE_STATUSES
    ]


def bin_width(period: float) -> float:
    """A bin of a sixth to a twelfth of ``period`` and at least a minute: the first width that
    reads well on a clock in that range, else a twelfth rounded up to a whole minute."""
    for width in _NICE_WIDTHS:
        if period / 12 <= width <= period / 6:
            return float(max(width, _MIN_WIDTH))
    return float(max(_MIN_WIDTH, math.ceil(period / 12 / 60) * 60))


def chart_data(
    failures: Sequence[Failure], since: float, until: float, view: View, *, span: str
) -> ChartData:
    """The chart of ``failures`` over ``[since, until]`` (module docstring); ``span`` names the
    period in the title ("1 h", "15 min")."""
    lang = view.lang
    period = max(until - since, float(_MIN_WIDTH))
    width = bin_width(period)
    bins = max(1, math.ceil(period / width - 1e-9))
    start = until - bins * width
    edges = tuple(start + i * width for i in range(bins + 1))

    def index(at: float | None) -> int:
        if at is None:
            return bins - 1
        return min(bins - 1, max(0, int((at - start) // width)))

    keys = [(f.status, f.err or None) for f in failures]
    totals = Counter(keys)
    ranked = sorted(
        totals, key=lambda key: (-totals[key], key[0] or 0, -1 if key[1] is None else key[1])
    )
    named = ranked if len(ranked) <= MAX_REASONS + 1 else ranked[:MAX_REASONS]
    band_of = {key: i for i, key in enumerate(named)}
    labels = [_plain(reason_label(status, err, lang)) for status, err in named]
    if len(named) < len(ranked):
        labels.append(phrases.CHART_OTHER(lang))
    counts = [[0] * bins for _ in labels]
    for failure, key in zip(failures, keys, strict=True):
        counts[band_of.get(key, len(named))][index(failure.at)] += 1
    tz = getattr(view.tz, "key", None) or str(view.tz)
    title = phrases.CHART_TITLE(lang).format(span=span, tz=tz)
    ticks = tuple(datetime.fromtimestamp(edge, view.tz).strftime("%H:%M") for edge in edges[:-1])
    series = tuple(Series(label, tuple(c)) for label, c in zip(labels, counts, strict=True))
    return ChartData(title, edges, ticks, series)


def failed_chart(lookup: Lookup[Window], hours: float, view: View) -> tuple[ChartData, str] | None:
    """``/failed``'s chart of ``lookup`` (the same window, the same failures) and its caption
    (``/failed``'s header and how fresh the data is); None when nothing failed."""
    lang = view.lang
    window = lookup.value
    failures = failures_of(window.entries)
    if not failures:
        return None
    span = span_hours(hours, lang)
    data = chart_data(
        failures,
        window.since,
        lookup.fetched_at,
        view,
        span=phrases.CHART_SPAN_HOURS(lang).format(hours=span),
    )
    head = phrases.FAILED_HEAD(lang).format(
        hours=span, failed=len(failures), total=len(window.entries)
    )
    caption = f"📈 <b>{head}</b>\n<i>{as_of_phrase(lookup.fetched_at, view)}</i>"
    return data, fit([caption], limit=MAX_CAPTION, lang=lang)


def alert_chart(alert: Alert, rule: Rule, view: View) -> ChartData:
    """A watch alert's chart: the failures its counts hold, over its period, by status time."""
    failures = [Failure(o.status_at, o.status, o.err) for o in alert.failures]
    span = phrases.CHART_SPAN_MINUTES(view.lang).format(minutes=rule.minutes)
    return chart_data(failures, alert.tally.since, alert.tally.until, view, span=span)


def render_png(data: ChartData, lang: Lang) -> bytes:
    """``data`` drawn as stacked bars (PNG bytes): slow, call it off the event loop."""
    with _DRAWING:
        return _draw(data, lang)


def _draw(data: ChartData, lang: Lang) -> bytes:
    # matplotlib is imported when the first chart is drawn, not at the bot's start (half a
    # second and some 50 MiB that a bot nobody asks for a chart never needs).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 7.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bins = len(data.ticks)
    positions = list(range(bins))
    bottom = [0] * bins
    for i, band in enumerate(data.series):
        colour = _COLOURS[i] if i < len(_COLOURS) else _OTHER_COLOUR
        axes.bar(
            positions,
            band.counts,
            bottom=bottom,
            width=0.85,
            color=colour,
            label=_wrap(band.label),
        )
        bottom = [b + c for b, c in zip(bottom, band.counts, strict=True)]
    axes.set_title(_wrap(data.title, 40, sep=" · "), fontsize=18)
    axes.set_ylabel(phrases.CHART_Y_LABEL(lang), fontsize=16)
    step = max(1, math.ceil(bins / 6))
    axes.set_xticks(positions[::step], data.ticks[::step], fontsize=14)
    axes.tick_params(axis="y", labelsize=14)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([*bottom, 1]) * 1.1)
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    if data.series:
        figure.legend(loc="outside lower center", fontsize=13, frameon=False, ncols=1)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _plain(label: str) -> str:
    """A ``/failed`` reason (HTML) as the chart's plain text."""
    return html.unescape(label)


def _wrap(text: str, width: int = 54, *, sep: str = " ") -> str:
    """``text`` in lines of about ``width`` characters, broken at ``sep`` (dropped there)."""
    lines: list[str] = []
    for word in text.split(sep):
        if lines and len(lines[-1]) + len(sep) + len(word) <= width:
            lines[-1] += sep + word
        else:
            lines.append(word)
    return "\n".join(lines)
