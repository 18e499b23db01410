"""Domain objects -> Telegram chat text (HTML parse mode): pure functions (PRODUCT.md §5, §6).

Two readers shape every answer: a support agent on a phone asked "the code never came — should
we resend?", and an on-call engineer at night asking "are SMS failing, which operator, which
error?". So answers lead with the number and the status, say in one line whether resending can
help, and end with one line saying how fresh the data is.

Rules kept by every function here:

- Everything that comes from SMS Center (text, sender, operator, region, country, status name,
  phone) is cleaned (lone surrogates, control and bidi-override characters), shortened *before*
  it is escaped (so no half entity such as ``&am`` is ever left), then escaped with
  ``html.escape(..., quote=False)``. The only tags are our own ``<b>``, ``<i>`` and ``<code>``.
- The status is named by our table (:mod:`bot.text.codes`), with the numeric code beside it.
- No answer is longer than :data:`MAX_MESSAGE`, whatever the input. Length is measured in
  UTF-16 code units, which is never less than ``len()`` and is how Telegram counts entities, so
  the bound holds however Telegram counts.
- In group chats one-time codes (runs of 4–8 ASCII digits) in message texts are masked.
- Every user-visible string lives in :class:`Phrase`, in English and Russian.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any, Final

from bot.fetch import WINDOW_COUNT, WINDOW_DAYS, HeldBack, Lookup, Origin, Window
from bot.smsc import HistoryEntry, MessageStatus
from bot.text.codes import (
    ERRORS,
    FAILURE_STATUSES,
    STATUSES,
    Lang,
    Phase,
    Retry,
    Text,
    error_info,
    failure_retry,
    status_info,
)
from bot.text.phones import format_phone

__all__ = [
    "MAX_MESSAGE",
    "Phrase",
    "View",
    "fit",
    "freshness",
    "mask_codes",
    "render_failed",
    "render_history",
    "render_last",
    "render_recent",
    "render_status",
    "when",
]


class Phrase:
    """Every user-visible string of this module, in English and Russian.

    ``{name}`` fields are filled with text that is already HTML-escaped. Russian avoids plural
    agreement by putting numbers after a colon or using abbreviations ("5 мин назад").
    """

    # Relative times and the freshness line.
    JUST_NOW = Text("just now", "только что")
    MIN_AGO = Text("{n} min ago", "{n} мин назад")
    HOURS_AGO = Text("{n} h ago", "{n} ч назад")
    DAY_AGO = Text("1 day ago", "1 дн назад")
    DAYS_AGO = Text("{n} days ago", "{n} дн назад")
    AS_OF = Text("as of {time}", "данные на {time}")
    FROM_CACHE = Text("from cache", "из кэша")
    HELD_BUDGET = Text(
        "SMS Center quota: fresh data after {time}",
        "квота SMS Center: свежие данные после {time}",
    )
    HELD_BUDGET_LATER = Text("SMS Center quota is spent for now", "квота SMS Center пока исчерпана")
    HELD_BACKOFF = Text(
        "SMS Center asked us to slow down: fresh data after {time}",
        "SMS Center просит подождать: свежие данные после {time}",
    )
    HELD_BACKOFF_LATER = Text("SMS Center asked us to slow down", "SMS Center просит подождать")
    HELD_SHARE = Text(
        "your share of this hour's SMS Center requests is used: fresh data after {time}",
        "ваша доля запросов к SMS Center на этот час исчерпана: свежие данные после {time}",
    )
    HELD_UPSTREAM = Text(
        "SMS Center is not answering, showing the last data held",
        "SMS Center не отвечает, показаны последние полученные данные",
    )

    # Status, error and the resend verdict.
    STATUS_MISSING = Text("status unknown", "статус неизвестен")
    STATUS_UNLISTED = Text("unknown status", "неизвестный статус")
    ERROR_UNLISTED = Text("unknown error", "неизвестная ошибка")
    ERROR_LINE = Text("⚠️ Error {code}: <b>{name}</b>", "⚠️ Ошибка {code}: <b>{name}</b>")
    SMSC_SAYS = Text("SMS Center calls it: {value}", "В SMS Center: {value}")
    RESEND_TEMPORARY = Text(
        "↻ Resend: can succeed later (temporary)",
        "↻ Повтор: может пройти позже (временная причина)",
    )
    RESEND_PERMANENT = Text(
        "✖ Resend won't help until the cause is fixed (permanent)",
        "✖ Повтор не поможет, пока причину не устранят (постоянная)",
    )
    RESEND_UNKNOWN = Text(
        "❓ Resend: can't tell whether it will help (cause unknown)",
        "❓ Повтор: неясно, поможет ли (причина неизвестна)",
    )

    # /last and /status.
    NO_MESSAGES = Text(
        "No messages to {phone} found in the last six months.",
        "Сообщений на {phone} за последние полгода не найдено.",
    )
    SENT = Text("Sent: {when}", "Отправлено: {when}")
    CHANGED = Text("Status changed: {when}", "Статус изменён: {when}")
    OPERATOR = Text("Operator: {value}", "Оператор: {value}")
    REGION = Text("Region: {value}", "Регион: {value}")
    SENDER = Text("Sender: {value}", "Отправитель: {value}")
    PARTS = Text("Parts: {value}", "Частей: {value}")
    COST = Text("Cost: {value}", "Стоимость: {value}")
    COMMENT = Text("Comment: {value}", "Комментарий: {value}")
    STATUS_NOT_FOUND = Text(
        "❔ SMS Center knows no message with id {id} for {phone}.",
        "❔ В SMS Center нет сообщения с id {id} для номера {phone}.",
    )

    # /history and /recent.
    HISTORY_HEAD = Text("Last messages: {n}", "Последние сообщения: {n}")
    RECENT_HEAD = Text("Last messages of the account: {n}", "Последние сообщения аккаунта: {n}")
    RECENT_NONE = Text(
        "No messages sent in the last {days} days.",
        "За последние {days} дн сообщений не отправлялось.",
    )

    # /failed.
    FAILED_HEAD = Text(
        "Undelivered in the last {hours} h: {failed} of {total} sent",
        "Не доставлено за {hours} ч: {failed} из {total}",
    )
    FAILED_NONE = Text(
        "✅ No undelivered messages in the last {hours} h ({total} sent).",
        "✅ За {hours} ч недоставленных нет (отправлено: {total}).",
    )
    FAILED_PARTIAL = Text(
        "⚠️ SMS Center gives at most {max} messages at once: only those sent since {time} "
        "are counted.",
        "⚠️ SMS Center отдаёт не больше {max} сообщений за раз: учтены только отправленные "
        "с {time}.",
    )
    BY_REASON = Text("By reason", "По причинам")
    BY_OPERATOR = Text("By operator", "По операторам")
    NEWEST = Text("Newest", "Последние")
    OPERATOR_COUNT = Text(
        "{operator} — <b>{failed}</b> of {total}", "{operator} — <b>{failed}</b> из {total}"
    )
    OPERATOR_MISSING = Text("operator not given", "оператор не указан")
    OTHERS = Text("other — <b>{n}</b>", "прочие — <b>{n}</b>")

    # fit().
    MORE = Text("… {n} more", "… ещё {n}")


MAX_MESSAGE: Final = 4096

# How much of SMS Center's text each answer shows (characters, before escaping).
LAST_TEXT_LIMIT: Final = 500
HISTORY_TEXT_LIMIT: Final = 120
RECENT_TEXT_LIMIT: Final = 60
_FIELD_LIMIT: Final = 60  # operator, region, country, sender, status name, comment
_PHONE_LIMIT: Final = 32
# /failed lists this many reasons and operators; the rest are summed in one "other" line.
_GROUP_LINES: Final = 8
# fit() shortens a block to fill the room left only if at least this much room is left.
_MIN_PARTIAL: Final = 120

_SEP: Final = "\n\n"  # between blocks: blank lines make blocks scannable on a phone
_NONE: Final = "—"
_ELLIPSIS: Final = "…"

_ICONS: Final[dict[Phase, str]] = {
    Phase.DELIVERED: "✅",
    Phase.PENDING: "⏳",
    Phase.FAILED: "❌",
    Phase.NOT_FOUND: "❔",
    Phase.STOPPED: "⏸",
}
_ICON_UNKNOWN: Final = "❔"

_VERDICTS: Final[dict[Retry, Text]] = {
    Retry.TEMPORARY: Phrase.RESEND_TEMPORARY,
    Retry.PERMANENT: Phrase.RESEND_PERMANENT,
    Retry.UNKNOWN: Phrase.RESEND_UNKNOWN,
}

# Country names SMS Center uses for Russia (in the account's language): not worth a line.
_HOME_COUNTRIES: Final = frozenset({"россия", "russia", "russian federation", "рф"})

# A one-time code: 4–8 ASCII digits, not part of a longer run (phone numbers have 9+ digits).
_CODE = re.compile(r"(?<![0-9])[0-9]{4,8}(?![0-9])")
# JSON may carry lone surrogates ("\ud800"), which cannot be encoded for Telegram at all.
_SURROGATES = re.compile("[\ud800-\udfff]")
# C0/C1 controls except tab and newline: Telegram may refuse or mangle them.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates: left in, they would reorder our own labels on the
# same line (a sender id could make "delivered" read backwards). Plain marks (LRM/RLM) stay.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SPACE_RUNS = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Our own HTML, token by token: a tag, an entity, or one character.
_TOKEN = re.compile(r"<[^<>]*>|&#?[0-9A-Za-z]+;|.", re.DOTALL)


@dataclass(frozen=True)
class View:
    """How to render for this reader: language, time zone, the present moment, chat kind.

    ``now`` is Unix time (tests pass a fixed value); ``mask_codes`` is True in group chats,
    where one-time codes in message texts must not be shown to everyone.
    """

    lang: Lang
    tz: tzinfo
    now: float
    mask_codes: bool


# --- public building blocks -----------------------------------------------------------------


def when(ts: float | None, view: View) -> str:
    """``ts`` for people: ``"25.11 14:03 (12 min ago)"`` in ``view.tz``.

    Today's times drop the date (``"14:03 (12 min ago)"``), another year adds it
    (``"25.11.2024 14:03 (…)"``). Under a minute is "just now"; then minutes, hours, days.
    A time in the future (clocks disagree) shows no relative part. ``None`` or a timestamp
    that cannot be a date gives ``"—"``. Never raises.
    """
    moment = _moment(ts, view)
    if ts is None or moment == _NONE:
        return _NONE
    ago = _ago(ts, view)
    return f"{moment} ({ago})" if ago else moment


def mask_codes(text: str) -> str:
    """``text`` with every one-time code replaced by as many ``•``.

    A code is a run of 4–8 ASCII digits that is not part of a longer digit run, so phone
    numbers (9+ digits) and short numbers stay readable. Non-ASCII digits are left alone.
    """
    return _CODE.sub(lambda match: "•" * len(match.group()), text)


def fit(parts: list[str], limit: int = MAX_MESSAGE, *, lang: Lang = Lang.EN) -> str:
    """``parts`` (well-formed HTML blocks) joined by blank lines, at most ``limit`` long.

    When they do not all fit, trailing blocks are dropped and a last line "… N more" (in
    ``lang``) says how many; the last block kept may be shortened to use the room left. A cut
    never falls inside a tag or an entity, and every tag left open is closed. Empty parts are
    skipped. Length is counted in UTF-16 code units (never less than ``len()``).
    """
    blocks = [part for part in parts if part]
    if limit <= 0 or not blocks:
        return ""
    sizes = [_size(block) for block in blocks]
    sep = len(_SEP)
    if sum(sizes) + sep * (len(blocks) - 1) <= limit:
        return _SEP.join(blocks)

    def more(n: int) -> str:
        return Phrase.MORE(lang).format(n=n) if n else ""

    def prefix(k: int) -> int:  # size of the first k blocks joined
        return sum(sizes[:k]) + sep * max(k - 1, 0)

    def room_after(k: int, tail: str) -> int:  # room for one more block after k whole blocks
        return limit - prefix(k) - (sep if k else 0) - (sep + _size(tail) if tail else 0)

    # The most whole blocks that leave room for the "… N more" line.
    kept = 0
    for k in range(len(blocks) - 1, 0, -1):
        if room_after(k, "") - _size(more(len(blocks) - k)) >= 0:
            kept = k
            break
    # Fill the room left with the start of the next block, if it is worth reading.
    tail = more(len(blocks) - kept - 1)
    room = room_after(kept, tail)
    if room >= _MIN_PARTIAL or kept == 0:
        cut = _cut_html(blocks[kept], room)
        if cut:
            joined = _SEP.join([*blocks[:kept], cut, *([tail] if tail else [])])
            if _size(joined) <= limit:
                return joined
    joined = _SEP.join([*blocks[:kept], more(len(blocks) - kept)])
    return joined if _size(joined) <= limit else _cut_html(joined, limit)


def freshness(lookup: Lookup[Any], view: View) -> str:
    """The line that says how fresh an answer is, in ``<i>…</i>``.

    ``"as of 14:05:00"`` (when the data was fetched from SMS Center, in ``view.tz``), plus
    "from cache" for a cached answer; a stale answer adds its age and why it is stale (the
    quota, SMS Center's request to slow down — both with when fresh data will be possible —
    or SMS Center not answering).
    """
    lang = view.lang
    head = Phrase.AS_OF(lang).format(time=_moment(lookup.fetched_at, view, seconds=True))
    parts = [head]
    if lookup.origin is Origin.CACHE:
        parts.append(Phrase.FROM_CACHE(lang))
    elif lookup.origin is Origin.STALE:
        ago = _ago(lookup.fetched_at, view)
        if ago:
            parts[0] = f"{head} ({ago})"
        reason = _held_back(lookup, view)
        if reason:
            parts.append(reason)
    return "<i>" + " · ".join(parts) + "</i>"


# --- answers --------------------------------------------------------------------------------


def render_last(lookup: Lookup[HistoryEntry | None], phone: str, view: View) -> str:
    """The answer to ``/last <phone>``: everything known about the newest message to ``phone``.

    Number, status with its code, for a failure the error, what usually helps and whether
    resending can succeed; send and status-change times, operator, region, sender, parts,
    cost, ids, and the message text (masked in groups, shortened). ``None`` says no message
    was found in the six months SMS Center is asked about.
    """
    entry = lookup.value
    if entry is None:
        line = Phrase.NO_MESSAGES(view.lang).format(phone=f"<b>{_phone(phone)}</b>")
        return _answer([line], lookup, view)
    return _answer(_details(entry, phone or entry.phone, view), lookup, view)


def render_history(lookup: Lookup[list[HistoryEntry]], phone: str, view: View) -> str:
    """The answer to ``/history <phone> [n]``: a header, then one compact block per message.

    Each block: send time, status with icon and code, the error for a failure, and the text
    shortened to about 120 characters; blocks that do not fit are counted in "… N more".
    """
    entries = lookup.value
    if not entries:
        line = Phrase.NO_MESSAGES(view.lang).format(phone=f"<b>{_phone(phone)}</b>")
        return _answer([line], lookup, view)
    head = f"📱 <b>{_phone(phone)}</b>\n" + Phrase.HISTORY_HEAD(view.lang).format(n=len(entries))
    blocks = [_compact(entry, view, text_limit=HISTORY_TEXT_LIMIT) for entry in entries]
    return _answer([head, *blocks], lookup, view)


def render_recent(lookup: Lookup[list[HistoryEntry]], view: View) -> str:
    """The answer to ``/recent [n]``: the account's newest messages to any number.

    One short block per message: time and number, status, and about 60 characters of text.
    """
    entries = lookup.value
    if not entries:
        return _answer([Phrase.RECENT_NONE(view.lang).format(days=WINDOW_DAYS)], lookup, view)
    head = "<b>" + Phrase.RECENT_HEAD(view.lang).format(n=len(entries)) + "</b>"
    blocks = [
        _compact(entry, view, text_limit=RECENT_TEXT_LIMIT, with_phone=True) for entry in entries
    ]
    return _answer([head, *blocks], lookup, view)


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
    span = _hours(hours, lang)
    note = ""
    if not window.complete:
        note = Phrase.FAILED_PARTIAL(lang).format(
            max=WINDOW_COUNT, time=_moment(window.covered_since, view)
        )
    if not failed:
        line = Phrase.FAILED_NONE(lang).format(hours=span, total=len(entries))
        return _answer(["\n".join(filter(None, [line, note]))], lookup, view)

    head = "<b>" + Phrase.FAILED_HEAD(lang).format(
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
    sent_by_operator = Counter(_clean(entry.operator, one_line=True) for entry in entries)
    failed_by_operator = Counter(_clean(entry.operator, one_line=True) for entry in failed)
    operator_lines = [
        "• "
        + Phrase.OPERATOR_COUNT(lang).format(
            operator=_escape(_shorten(operator, _FIELD_LIMIT))
            if operator
            else Phrase.OPERATOR_MISSING(lang),
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
        newest_blocks[0] = f"<b>{Phrase.NEWEST(lang)}</b>\n{newest_blocks[0]}"
    parts = [
        "\n".join(filter(None, [head, note])),
        f"<b>{Phrase.BY_REASON(lang)}</b>\n" + "\n".join(_capped(reason_lines, reasons, lang)),
        f"<b>{Phrase.BY_OPERATOR(lang)}</b>\n"
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
        line = Phrase.STATUS_NOT_FOUND(view.lang).format(
            id=f"<code>{_number(entry.id)}</code>", phone=f"<b>{_phone(entry.phone)}</b>"
        )
        return _answer([line], lookup, view)
    parts = _details(entry, entry.phone, view)
    comment = _field(status.comment)
    if comment:
        parts[0] += "\n" + Phrase.COMMENT(view.lang).format(value=comment)
    return _answer(parts, lookup, view)


# --- blocks ---------------------------------------------------------------------------------


def _answer(parts: Sequence[str], lookup: Lookup[Any], view: View) -> str:
    """``parts`` fitted into one message, with the freshness line always kept at the end."""
    foot = freshness(lookup, view)
    body = fit(list(parts), MAX_MESSAGE - _size(foot) - len(_SEP), lang=view.lang)
    return f"{body}{_SEP}{foot}" if body else foot


def _details(entry: HistoryEntry, phone: str, view: View) -> list[str]:
    """The full /last view of one message: a details block, then the text block."""
    lang = view.lang
    lines = [f"📱 <b>{_phone(phone)}</b>", _status_line(entry, lang)]
    lines += _diagnosis(entry, lang)
    if entry.sent_at is not None:
        lines.append(Phrase.SENT(lang).format(when=when(entry.sent_at, view)))
    if entry.changed_at is not None and entry.changed_at != entry.sent_at:
        lines.append(Phrase.CHANGED(lang).format(when=when(entry.changed_at, view)))
    operator = _field(entry.operator)
    if operator:
        lines.append(Phrase.OPERATOR(lang).format(value=operator))
    place = ", ".join(filter(None, [_field(entry.region), _foreign_country(entry.country)]))
    if place:
        lines.append(Phrase.REGION(lang).format(value=place))
    sender = _field(entry.sender)
    if sender:
        lines.append(Phrase.SENDER(lang).format(value=f"<code>{sender}</code>"))
    counts: list[str] = []
    if entry.sms_cnt is not None:
        counts.append(Phrase.PARTS(lang).format(value=_number(entry.sms_cnt)))
    if entry.cost is not None:
        counts.append(Phrase.COST(lang).format(value=_cost(entry.cost)))
    if counts:
        lines.append(" · ".join(counts))
    ids: list[str] = []
    if entry.id is not None:
        ids.append(f"id <code>{_number(entry.id)}</code>")
    if entry.int_id is not None:
        ids.append(f"int_id <code>{_number(entry.int_id)}</code>")
    if ids:
        lines.append(" · ".join(ids))
    text = _message(entry.message, view, LAST_TEXT_LIMIT, one_line=False)
    return ["\n".join(lines), *([f"💬 {text}"] if text else [])]


def _diagnosis(entry: HistoryEntry, lang: Lang) -> list[str]:
    """What the status means, for a failure the error, what helps and the resend verdict."""
    status = entry.status
    if status is None:
        return []
    if status not in STATUSES:
        named = _field(entry.status_name)
        return [Phrase.SMSC_SAYS(lang).format(value=named)] if named else []
    info = status_info(status)
    if status not in FAILURE_STATUSES:
        # Delivered needs no explanation; "passed to operator" and the like answer "wait".
        return [] if info.phase is Phase.DELIVERED else [f"ℹ️ {_escape(info.meaning(lang))}"]
    lines: list[str] = []
    err = _failure_err(entry)
    if err is None:
        lines.append(f"💡 {_escape(info.meaning(lang))}")
    else:
        error = error_info(err)
        name = error.name(lang) if err in ERRORS else Phrase.ERROR_UNLISTED(lang)
        lines.append(Phrase.ERROR_LINE(lang).format(code=err, name=_escape(name)))
        lines.append(f"💡 {_escape(error.help(lang))}")
    verdict = _VERDICTS.get(failure_retry(status, entry.err))
    if verdict is not None:
        lines.append(verdict(lang))
    return lines


def _compact(entry: HistoryEntry, view: View, *, text_limit: int, with_phone: bool = False) -> str:
    """One message in a list: time (and number), status with error, and the text's start."""
    head = f"<b>{when(entry.sent_at, view)}</b>"
    if with_phone:
        head += f" · {_phone(entry.phone)}"
    lines = [head, f"{_icon(entry.status)} {_reason(entry.status, _failure_err(entry), view.lang)}"]
    if text_limit > 0:
        text = _message(entry.message, view, text_limit, one_line=True)
        if text:
            lines.append(f"💬 {text}")
    return "\n".join(lines)


def _status_line(entry: HistoryEntry, lang: Lang) -> str:
    """``❌ <b>impossible to deliver</b> (20)``: the status in our words, with its code."""
    status = entry.status
    if status is None:
        return f"{_ICON_UNKNOWN} <b>{Phrase.STATUS_MISSING(lang)}</b>"
    return f"{_icon(status)} <b>{_status_name(status, lang)}</b> ({status})"


def _reason(status: int | None, err: int | None, lang: Lang) -> str:
    """``impossible to deliver (20) · subscriber offline (6)``: status and error together."""
    if status is None:
        label = Phrase.STATUS_MISSING(lang)
    else:
        label = f"{_status_name(status, lang)} ({status})"
    if err is not None:
        name = error_info(err).name(lang) if err in ERRORS else Phrase.ERROR_UNLISTED(lang)
        label += f" · {_escape(name)} ({err})"
    return label


def _status_name(status: int, lang: Lang) -> str:
    if status in STATUSES:
        return _escape(status_info(status).name(lang))
    return Phrase.STATUS_UNLISTED(lang)


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
    return [*lines[: _GROUP_LINES - 1], "• " + Phrase.OTHERS(lang).format(n=rest)]


def _held_back(lookup: Lookup[Any], view: View) -> str:
    """Why a stale answer is stale, and when fresh data will be possible."""
    lang = view.lang
    at = lookup.fresh_possible_at
    # Rounded up: "after 14:32" must never invite a retry that would still be refused.
    time = _moment(math.ceil(at / 60) * 60, view) if at is not None and math.isfinite(at) else ""
    if lookup.held_back is HeldBack.BUDGET:
        return (
            Phrase.HELD_BUDGET(lang).format(time=time) if time else Phrase.HELD_BUDGET_LATER(lang)
        )
    if lookup.held_back is HeldBack.BACKOFF:
        return (
            Phrase.HELD_BACKOFF(lang).format(time=time) if time else Phrase.HELD_BACKOFF_LATER(lang)
        )
    if lookup.held_back is HeldBack.SHARE:
        return Phrase.HELD_SHARE(lang).format(time=time) if time else Phrase.HELD_BUDGET_LATER(lang)
    if lookup.held_back is HeldBack.UPSTREAM:
        return Phrase.HELD_UPSTREAM(lang)
    return ""


# --- times ----------------------------------------------------------------------------------


def _local(ts: float | None, view: View) -> datetime | None:
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, view.tz)
    except (OverflowError, OSError, ValueError):
        return None  # a timestamp no calendar can show (SMS Center sent nonsense)


def _moment(ts: float | None, view: View, *, seconds: bool = False) -> str:
    """``14:03`` today, ``25.11 14:03`` another day this year, ``25.11.2024 14:03`` otherwise."""
    moment = _local(ts, view)
    if moment is None:
        return _NONE
    clock = moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    today = _local(view.now, view)
    if today is not None and moment.date() == today.date():
        return clock
    if today is not None and moment.year == today.year:
        return f"{moment:%d.%m} {clock}"
    return f"{moment:%d.%m.%Y} {clock}"


def _ago(ts: float, view: View) -> str:
    """``"12 min ago"`` relative to ``view.now``; empty for a time in the future."""
    seconds = view.now - ts
    if not math.isfinite(seconds) or seconds < -60:
        return ""
    lang = view.lang
    if seconds < 60:
        return Phrase.JUST_NOW(lang)
    if seconds < 3600:
        return Phrase.MIN_AGO(lang).format(n=int(seconds // 60))
    if seconds < 86400:
        return Phrase.HOURS_AGO(lang).format(n=int(seconds // 3600))
    days = int(seconds // 86400)
    return Phrase.DAY_AGO(lang) if days == 1 else Phrase.DAYS_AGO(lang).format(n=days)


def _hours(hours: float, lang: Lang) -> str:
    text = str(int(hours)) if float(hours).is_integer() else f"{hours:g}"
    return text.replace(".", ",") if lang is Lang.RU else text


# --- text from SMS Center -------------------------------------------------------------------


def _clean(text: str, *, one_line: bool) -> str:
    """SMS Center's text made safe to show: no lone surrogates, controls or bidi overrides."""
    text = _SURROGATES.sub("\ufffd", text).replace("\r\n", "\n")
    text = _BIDI_CONTROLS.sub("", _CONTROLS.sub(" ", text))
    if one_line:
        return _SPACE_RUNS.sub(" ", text).strip()
    # Line by line, not one clever regex: backtracking over long blank runs would be quadratic.
    lines = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip()


def _shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in "…" when cut (applied before escaping)."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + _ELLIPSIS


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _field(text: str, limit: int = _FIELD_LIMIT) -> str:
    """A one-line field from SMS Center (sender, operator, …), cleaned, shortened, escaped."""
    return _escape(_shorten(_clean(text, one_line=True), limit))


def _message(text: str, view: View, limit: int, *, one_line: bool) -> str:
    """A message text: cleaned, codes masked in groups, shortened, then escaped."""
    text = _clean(text, one_line=one_line)
    if view.mask_codes:
        text = mask_codes(text)  # before shortening: a cut must not leave half a code visible
    return _escape(_shorten(text, limit))


def _phone(phone: str) -> str:
    shown = _field(format_phone(_clean(phone, one_line=True)), _PHONE_LIMIT)
    return shown or _NONE


def _foreign_country(country: str) -> str:
    """The country, unless it is Russia (nearly every number an smsc.ru account sends to)."""
    shown = _clean(country, one_line=True)
    return "" if shown.casefold() in _HOME_COUNTRIES else _field(shown)


def _number(value: int | None) -> str:
    if value is None:
        return _NONE
    # str() of a huge int is slow and, past 4300 digits, refused; no real id is that long.
    return str(value) if value.bit_length() <= 128 else _ELLIPSIS


def _cost(value: Decimal) -> str:
    return _escape(_shorten(f"{value:f}", 20))


# --- measuring and cutting HTML -------------------------------------------------------------


def _size(text: str) -> int:
    """Length in UTF-16 code units: what Telegram counts, and never less than ``len()``."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cut_html(block: str, budget: int) -> str:
    """The longest start of well-formed ``block`` that fits ``budget`` with "…" and closers.

    Cuts only between tokens (a whole tag, a whole entity, or one character), closes every tag
    it leaves open, and drops a tag opened right at the cut. Empty when nothing fits.
    """
    if _size(block) <= budget:
        return block
    out: list[str] = []
    open_tags: list[str] = []
    used = 0
    closers = 0  # size of the closing tags the open ones will need
    reserve = len(_ELLIPSIS)
    for match in _TOKEN.finditer(block):
        token = match.group()
        if token.startswith("</") and token.endswith(">"):
            if open_tags:
                name = open_tags.pop()
                closers -= len(name) + 3
                out.append(f"</{name}>")
                used += len(name) + 3
            continue
        if token.startswith("<") and token.endswith(">") and len(token) > 2:
            name = token[1:-1].split()[0]
            cost = len(token) + len(name) + 3
            if used + closers + cost + reserve > budget:
                break
            out.append(token)
            open_tags.append(name)
            used += len(token)
            closers += len(name) + 3
            continue
        cost = _size(token)
        if used + closers + cost + reserve > budget:
            break
        out.append(token)
        used += cost
    # A tag opened right at the cut would wrap nothing but "…".
    while out and open_tags and out[-1] == f"<{open_tags[-1]}>":
        out.pop()
        open_tags.pop()
    head = "".join(out).rstrip()
    result = head + _ELLIPSIS + "".join(f"</{name}>" for name in reversed(open_tags))
    return result if _size(result) <= budget else ""
