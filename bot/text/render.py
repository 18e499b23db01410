"""The lookup answers: domain objects -> Telegram chat text (HTML parse mode), pure functions
(PRODUCT.md §5, §6).

Two readers shape every answer: a support agent on a phone asked "the code never came — should
we resend?", and an on-call engineer at night asking "are SMS failing, which operator, which
error?". So answers lead with the number and the status, say in one line whether resending can
help, and end with one line saying how fresh the data is.

Rules kept by every function here:

- Everything that comes from SMS Center goes through :mod:`bot.text.sanitize` (cleaned,
  shortened, then escaped). The only tags are our own ``<b>``, ``<i>`` and ``<code>``.
- The status is named by our table (:mod:`bot.text.codes`), with the numeric code beside it.
- No answer is longer than :data:`~bot.text.fitting.MAX_MESSAGE`, whatever the input
  (:func:`~bot.text.fitting.fit`, in UTF-16 code units).
- In group chats one-time codes in message texts are masked.
- Every user-visible string comes from the catalogue (:mod:`bot.text.catalogue_answers`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Final

from bot.fetch import WINDOW_COUNT, WINDOW_DAYS, Lookup, Window
from bot.smsc import HistoryEntry, MessageStatus
from bot.smsc.codes import is_overdue
from bot.text import catalogue_answers as phrases
from bot.text.codes import (
    ERRORS,
    FAILURE_STATUSES,
    STATUSES,
    Phase,
    Retry,
    error_info,
    failure_retry,
    status_info,
)
from bot.text.fitting import MAX_MESSAGE, SEP, fit, size
from bot.text.freshness import as_of_phrase, freshness
from bot.text.moments import moment, span_hours, when
from bot.text.phrases import Lang, Text
from bot.text.sanitize import (
    FIELD_LIMIT,
    clean,
    display_phone,
    escape,
    field,
    foreign_country,
    message_text,
    money,
    number,
    shorten,
)
from bot.text.view import View

__all__ = [
    "as_of_phrase",
    "freshness",
    "render_failed",
    "render_history",
    "render_last",
    "render_recent",
    "render_status",
]

# How much of SMS Center's text each answer shows (characters, before escaping).
LAST_TEXT_LIMIT: Final = 500
HISTORY_TEXT_LIMIT: Final = 120
RECENT_TEXT_LIMIT: Final = 60
# A list that does not fit one message tries these text lengths in turn (0: no text) before
# it falls back to one line per message: all it announces is shown, never "… N more".
HISTORY_TEXT_LIMITS: Final = (HISTORY_TEXT_LIMIT, 60, 30, 0)
RECENT_TEXT_LIMITS: Final = (RECENT_TEXT_LIMIT, 30, 0)
# /failed lists this many reasons and operators; the rest are summed in one "other" line.
_GROUP_LINES: Final = 8

_ICONS: Final[dict[Phase, str]] = {
    Phase.DELIVERED: "✅",
    Phase.PENDING: "⏳",
    Phase.FAILED: "❌",
    Phase.NOT_FOUND: "❔",
    Phase.STOPPED: "⏸",
}
_ICON_UNKNOWN: Final = "❔"

_VERDICTS: Final[dict[Retry, Text]] = {
    Retry.TEMPORARY: phrases.RESEND_TEMPORARY,
    Retry.PERMANENT: phrases.RESEND_PERMANENT,
    Retry.UNKNOWN: phrases.RESEND_UNKNOWN,
}
# What to say of a message still in transit past the time a delivery report normally takes.
_OVERDUE: Final[dict[int, Text]] = {-1: phrases.OVERDUE_QUEUED, 0: phrases.OVERDUE_REPORT}


# --- answers --------------------------------------------------------------------------------


def render_last(
    lookup: Lookup[HistoryEntry | None],
    phone: str,
    view: View,
    *,
    update_by: float | None = None,
    pushed_at: float | None = None,
) -> str:
    """The answer to ``/last <phone>``: everything known about the newest message to ``phone``.

    Number, status with its code, for a failure the error, what usually helps and whether
    resending can succeed; send and status-change times (``pushed_at``: the status came in SMS
    Center's push at that moment, and the answer says so), operator, region, sender, parts,
    cost, ids, and the message text (masked in groups, shortened). ``None`` says no message
    was found in the six months SMS Center is asked about.
    """
    entry = lookup.value
    if entry is None:
        line = phrases.NO_MESSAGES(view.lang).format(phone=f"<b>{display_phone(phone)}</b>")
        return _answer([line], lookup, view, update_by=update_by)
    as_of = lookup.status_at or lookup.fetched_at  # the status is judged as of when it was seen
    details = _details(entry, phone or entry.phone, view, as_of=as_of, pushed_at=pushed_at)
    return _answer(details, lookup, view, update_by=update_by)


def render_pending(
    held: Lookup[HistoryEntry | None] | None,
    phone: str,
    due: float,
    view: View,
    *,
    pushed_at: float | None = None,
) -> str:
    """The answer to ``/last`` while its request is coming: the held data with its age and when
    this message will be updated, or, with nothing held, that SMS Center is being asked."""
    # Rounded up: "by 14:07" must not pass before the update comes.
    by = moment(math.ceil(due / 60) * 60, view)
    if held is None:
        line = phrases.ASKING(view.lang).format(phone=f"<b>{display_phone(phone)}</b>", time=by)
        return fit([line], lang=view.lang)
    return render_last(held, phone, view, update_by=due, pushed_at=pushed_at)


def render_restarted(phone: str, view: View) -> str:
    """What a waiting answer becomes when the bot stops before SMS Center answered."""
    return phrases.RESTARTED(view.lang).format(phone=f"<b>{display_phone(phone)}</b>")


def render_history(
    lookup: Lookup[list[HistoryEntry]],
    phone: str,
    view: View,
    *,
    older: bool = False,
    first: int = 1,
) -> str:
    """The answer to ``/history <phone> [n]``: a header, then one compact block per message.

    Each block: send time, id, status with icon and code, the error for a failure, and the text
    shortened to about 120 characters; when the page would not fit in one message, the texts
    are shortened further or left out, so every message announced is shown (see
    :func:`_list_answer`). ``older``: this is an "Older" page, so an empty one means there are
    no older messages, and its header says which messages these are: the ``first``-th from the
    newest on (1-based; 0 when not known, then just "older messages").
    """
    entries = lookup.value
    lang = view.lang
    if not entries:
        empty = phrases.NO_OLDER if older else phrases.NO_MESSAGES
        line = empty(lang).format(phone=f"<b>{display_phone(phone)}</b>")
        return _answer([line], lookup, view)
    top = f"📱 <b>{display_phone(phone)}</b>\n"

    def head(count: int) -> str:
        if not older:
            return top + phrases.HISTORY_HEAD(lang, count)
        if first > 0:
            last = first + count - 1
            page = phrases.HISTORY_PAGE_ONE if count == 1 else phrases.HISTORY_PAGE
            return top + page(lang).format(first=first, last=last)
        return top + phrases.HISTORY_OLDER(lang)

    return _list_answer(head, entries, lookup, view, text_limits=HISTORY_TEXT_LIMITS)


def render_recent(lookup: Lookup[list[HistoryEntry]], view: View) -> str:
    """The answer to ``/recent [n]``: the account's newest messages to any number.

    One short block per message: time, number and id, status, and about 60 characters of text;
    when they would not fit in one message the texts are shortened or left out, then each
    message takes one line, so that all that is announced is shown (:func:`_list_answer`).
    """
    entries = lookup.value
    if not entries:
        return _answer([phrases.RECENT_NONE(view.lang, WINDOW_DAYS)], lookup, view)

    def head(count: int) -> str:
        return "<b>" + phrases.RECENT_HEAD(view.lang, count) + "</b>"

    return _list_answer(
        head, entries, lookup, view, text_limits=RECENT_TEXT_LIMITS, with_phone=True
    )


def render_failed(lookup: Lookup[Window], hours: float, view: View, *, newest: int = 5) -> str:
    """The answer to ``/failed [hours]``: what failed in the window, grouped for triage.

    A header "Undelivered in the last N h: X of Y sent" (Y counts every message in the
    window), counts by reason (status and ``err`` together) and by operator (failed of sent),
    both largest first, then the ``newest`` newest failures. Undelivered means a status in
    :data:`bot.text.codes.FAILURE_STATUSES`. A window cut short by SMS Center's page size says from
    when on it is whole; no failures at all gives one reassuring line.
    """
    lang = view.lang
    window = lookup.value
    entries = window.entries
    failed = [entry for entry in entries if entry.status in FAILURE_STATUSES]
    span = span_hours(hours, lang)
    note = ""
    if not window.complete:
        note = phrases.FAILED_PARTIAL(lang, WINDOW_COUNT, time=moment(window.covered_since, view))
    if not failed:
        line = phrases.FAILED_NONE(lang, len(entries), hours=span)
        return _answer(["\n".join(filter(None, [line, note]))], lookup, view)

    head = "<b>" + phrases.FAILED_HEAD(lang).format(
        hours=span, failed=len(failed), total=len(entries)
    )
    head += "</b>"
    reasons = Counter((entry.status, _failure_err(entry)) for entry in failed)
    reason_lines = [
        f"• {_reason(status, err, lang)} — <b>{count}</b>"
        for (status, err), count in sorted(
            reasons.items(),
            key=lambda item: (-item[1], item[0][0] or 0, -1 if item[0][1] is None else item[0][1]),
        )
    ]
    sent_by_operator = Counter(clean(entry.operator, one_line=True) for entry in entries)
    failed_by_operator = Counter(clean(entry.operator, one_line=True) for entry in failed)
    operator_lines = [
        "• "
        + phrases.OPERATOR_COUNT(lang).format(
            operator=escape(shorten(operator, FIELD_LIMIT))
            if operator
            else phrases.OPERATOR_MISSING(lang),
            failed=count,
            total=sent_by_operator[operator],
        )
        for operator, count in sorted(
            failed_by_operator.items(), key=lambda item: (-item[1], item[0])
        )
    ]
    newest_failed = sorted(failed, key=lambda entry: entry.sent_at or -math.inf, reverse=True)
    newest_blocks = [
        _compact(entry, view, text_limit=0, with_phone=True)
        for entry in newest_failed[: max(newest, 0)]
    ]
    if newest_blocks:
        newest_blocks[0] = f"<b>{phrases.NEWEST(lang)}</b>\n{newest_blocks[0]}"
    parts = [
        "\n".join(filter(None, [head, note])),
        f"<b>{phrases.BY_REASON(lang)}</b>\n" + "\n".join(_capped(reason_lines, reasons, lang)),
        f"<b>{phrases.BY_OPERATOR(lang)}</b>\n"
        + "\n".join(_capped(operator_lines, failed_by_operator, lang)),
        *newest_blocks,
    ]
    return _answer(parts, lookup, view)


def render_status(lookup: Lookup[MessageStatus], view: View) -> str:
    """The answer to ``/status <id> <phone>``: like ``/last`` for that one message.

    SMS Center's status -3 (no message with that id for that number) is one line saying so.
    """
    status = lookup.value
    entry = status.entry
    if not status.found:
        line = phrases.STATUS_NOT_FOUND(view.lang).format(
            id=f"<code>{number(entry.id)}</code>", phone=f"<b>{display_phone(entry.phone)}</b>"
        )
        return _answer([line], lookup, view)
    parts = _details(entry, entry.phone, view, as_of=lookup.fetched_at)
    comment = field(status.comment)
    if comment:
        parts[0] += "\n" + phrases.COMMENT(view.lang).format(value=comment)
    return _answer(parts, lookup, view)


# --- blocks ---------------------------------------------------------------------------------


def with_pushed(text: str, pushed: Sequence[float], view: View) -> str:
    """A list answer ``text`` with one line, above its freshness line, saying how many of the
    statuses it shows SMS Center pushed (``pushed``: when each was), and when the newest; as it
    was when none were, or when the line would not fit."""
    if not pushed:
        return text
    line = phrases.PUSHED_MANY(view.lang, len(pushed), when=when(max(pushed), view))
    body, sep, foot = text.rpartition(SEP)
    if not sep or size(text) + size(line) + 1 > MAX_MESSAGE:
        return text
    return f"{body}\n{line}{SEP}{foot}"


def _answer(
    parts: Sequence[str], lookup: Lookup[Any], view: View, *, update_by: float | None = None
) -> str:
    """``parts`` fitted into one message, with the freshness line always kept at the end."""
    foot = freshness(lookup, view, update_by=update_by)
    body = fit(list(parts), MAX_MESSAGE - size(foot) - len(SEP), lang=view.lang)
    return f"{body}{SEP}{foot}" if body else foot


def _list_answer(
    head: Callable[[int], str],
    entries: Sequence[HistoryEntry],
    lookup: Lookup[Any],
    view: View,
    *,
    text_limits: Sequence[int],
    with_phone: bool = False,
) -> str:
    """A header (``head(count)``) and every entry, within one message with its freshness line.

    The richest layout that fits all of ``entries`` is used: blocks with texts shortened to
    each of ``text_limits`` in turn, then one line per message (time, number, id, status), then
    the same with the status as its codes only (the icon still says delivered, pending or
    failed). Only when even that does not fit (fields far longer than SMS Center sends) are the
    oldest left out, and the header then announces the number shown: nothing is announced that
    is not shown.
    """
    foot = freshness(lookup, view)
    budget = MAX_MESSAGE - size(foot) - len(SEP)
    count = len(entries)
    for limit in text_limits:
        blocks = [_compact(e, view, text_limit=limit, with_phone=with_phone) for e in entries]
        body = SEP.join([head(count), *blocks])
        if size(body) <= budget:
            return f"{body}{SEP}{foot}"
    # Status in words with the id tap-to-copy, then without the copy markup, then codes only.
    for named, copy in ((True, True), (True, False), (False, False)):
        lines = [_line(e, view, with_phone=with_phone, named=named, copy=copy) for e in entries]
        body = head(count) + SEP + "\n".join(lines)
        if size(body) <= budget:
            return f"{body}{SEP}{foot}"
    while count > 1 and size(head(count) + SEP + "\n".join(lines[:count])) > budget:
        count -= 1
    body = fit([head(count) + SEP + "\n".join(lines[:count])], budget, lang=view.lang)
    return f"{body}{SEP}{foot}"


def _line(entry: HistoryEntry, view: View, *, with_phone: bool, named: bool, copy: bool) -> str:
    """One message on one line: icon, time, number, id (in ``<code>`` when ``copy``), status
    (in words when ``named``) and error codes."""
    parts = [f"{_icon(entry.status)} <b>{moment(entry.sent_at, view)}</b>"]
    if with_phone:
        parts.append(display_phone(entry.phone))
    if entry.id is not None:
        parts.append(f"id <code>{number(entry.id)}</code>" if copy else f"id {number(entry.id)}")
    status = entry.status
    codes = "/".join(str(code) for code in (status, _failure_err(entry)) if code is not None)
    if named:
        label = (
            phrases.STATUS_MISSING(view.lang) if status is None else _status_name(status, view.lang)
        )
        parts.append(f"{label} ({codes})" if codes else label)
    elif codes:
        parts.append(codes)
    return " · ".join(parts)


def _details(
    entry: HistoryEntry, phone: str, view: View, *, as_of: float, pushed_at: float | None = None
) -> list[str]:
    """The full /last view of one message, as known at ``as_of``: a details block, then the
    text block."""
    lang = view.lang
    lines = [f"📱 <b>{display_phone(phone)}</b>", _status_line(entry, lang)]
    lines += _diagnosis(entry, lang, as_of=as_of)
    if entry.sent_at is not None:
        lines.append(phrases.SENT(lang).format(when=when(entry.sent_at, view)))
    if pushed_at is not None:
        lines.append(phrases.PUSHED(lang).format(when=when(pushed_at, view)))
    elif entry.changed_at is not None and (
        entry.sent_at is None or moment(entry.changed_at, view) != moment(entry.sent_at, view)
    ):  # a change shown at the same minute as the sending says nothing new
        lines.append(phrases.CHANGED(lang).format(when=when(entry.changed_at, view)))
    operator = field(entry.operator)
    if operator:
        lines.append(phrases.OPERATOR(lang).format(value=operator))
    place = ", ".join(filter(None, [field(entry.region), foreign_country(entry.country)]))
    if place:
        lines.append(phrases.REGION(lang).format(value=place))
    sender = field(entry.sender)
    if sender:
        lines.append(phrases.SENDER(lang).format(value=f"<code>{sender}</code>"))
    counts: list[str] = []
    if entry.sms_cnt is not None:
        counts.append(phrases.PARTS(lang).format(value=number(entry.sms_cnt)))
    if entry.cost is not None:
        counts.append(phrases.COST(lang).format(value=money(entry.cost, lang)))
    if counts:
        lines.append(" · ".join(counts))
    ids: list[str] = []
    if entry.id is not None:
        ids.append(f"id <code>{number(entry.id)}</code>")
    if entry.int_id is not None:
        ids.append(f"int_id <code>{number(entry.int_id)}</code>")
    if ids:
        lines.append(" · ".join(ids))
    text = message_text(entry.message, view, LAST_TEXT_LIMIT, one_line=False)
    return ["\n".join(lines), *([f"💬 {text}"] if text else [])]


def _diagnosis(entry: HistoryEntry, lang: Lang, *, as_of: float) -> list[str]:
    """What the status means, for a failure the error, what helps and the resend verdict.

    A message still in transit (-1, 0) past the time a delivery report normally takes after
    its send time, judged at ``as_of`` (when SMS Center said so), is overdue: the advice is
    that resending is reasonable, not to wait.
    """
    status = entry.status
    if status is None:
        return []
    if status not in STATUSES:
        named = field(entry.status_name)
        return [phrases.SMSC_SAYS(lang).format(value=named)] if named else []
    info = status_info(status)
    if is_overdue(status, entry.sent_at, as_of):
        return [f"💡 {_OVERDUE[status](lang)}"]
    if status not in FAILURE_STATUSES:
        # Delivered needs no explanation; "passed to operator" and the like answer "wait".
        return [] if info.phase is Phase.DELIVERED else [f"ℹ️ {escape(info.meaning(lang))}"]
    lines: list[str] = []
    err = _failure_err(entry)
    if err is None:
        lines.append(f"💡 {escape(info.meaning(lang))}")
    else:
        error = error_info(err)
        name = error.name(lang) if err in ERRORS else phrases.ERROR_UNLISTED(lang)
        lines.append(phrases.ERROR_LINE(lang).format(code=err, name=escape(name)))
        lines.append(f"💡 {escape(error.help(lang))}")
    verdict = _VERDICTS.get(failure_retry(status, entry.err))
    if verdict is not None:
        lines.append(verdict(lang))
    return lines


def _compact(entry: HistoryEntry, view: View, *, text_limit: int, with_phone: bool = False) -> str:
    """One message in a list: time (and number), its id (what ``/status ID PHONE`` needs),
    status with error, and the text's start."""
    head = f"<b>{when(entry.sent_at, view)}</b>"
    if with_phone:
        head += f" · {display_phone(entry.phone)}"
    if entry.id is not None:
        head += f" · id <code>{number(entry.id)}</code>"
    lines = [head, f"{_icon(entry.status)} {_reason(entry.status, _failure_err(entry), view.lang)}"]
    if text_limit > 0:
        text = message_text(entry.message, view, text_limit, one_line=True)
        if text:
            lines.append(f"💬 {text}")
    return "\n".join(lines)


def _status_line(entry: HistoryEntry, lang: Lang) -> str:
    """``❌ <b>impossible to deliver</b> (20)``: the status in our words, with its code."""
    status = entry.status
    if status is None:
        return f"{_ICON_UNKNOWN} <b>{phrases.STATUS_MISSING(lang)}</b>"
    return f"{_icon(status)} <b>{_status_name(status, lang)}</b> ({status})"


def reason_label(status: int | None, err: int | None, lang: Lang) -> str:
    """A failure's reason as ``/failed`` shows it (HTML): the status and the error together."""
    return _reason(status, err if err else None, lang)


def _reason(status: int | None, err: int | None, lang: Lang) -> str:
    """``impossible to deliver (20) · subscriber offline (6)``: status and error together."""
    if status is None:
        label = phrases.STATUS_MISSING(lang)
    else:
        label = f"{_status_name(status, lang)} ({status})"
    if err is not None:
        name = error_info(err).name(lang) if err in ERRORS else phrases.ERROR_UNLISTED(lang)
        label += f" · {escape(name)} ({err})"
    return label


def _status_name(status: int, lang: Lang) -> str:
    if status in STATUSES:
        return escape(status_info(status).name(lang))
    return phrases.STATUS_UNLISTED(lang)


def _icon(status: int | None) -> str:
    if status is None or status not in STATUSES:
        return _ICON_UNKNOWN
    return _ICONS.get(status_info(status).phase, _ICON_UNKNOWN)


def _failure_err(entry: HistoryEntry) -> int | None:
    """The error code worth showing: only for a failure, and never "0 no error"."""
    if entry.status not in FAILURE_STATUSES or not entry.err:
        return None
    return entry.err


def _capped(lines: list[str], counts: Counter[Any], lang: Lang) -> list[str]:
    """The first lines of a largest-first list, the rest summed into one "other" line."""
    if len(lines) <= _GROUP_LINES:
        return lines
    rest = sum(sorted(counts.values(), reverse=True)[_GROUP_LINES - 1 :])
    return [*lines[: _GROUP_LINES - 1], "• " + phrases.OTHERS(lang).format(n=rest)]
