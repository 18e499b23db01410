"""One picture per account: every message the bot has learned, and what is known complete.

Every source writes here — history requests of any shape (the account-wide window, one number,
a comma-separated list of numbers, ``prev_id`` pages), ``status.php`` answers and status
pushes — and every answer reads from here. Messages merge by identity (``int_id``, else the
number and ``id``); the later observation of a message wins.

**Completeness** is kept as spans of *send times*: "every message to +7… sent between 09:12 and
14:05 is held" (from a request that named the number) or "every message of the account sent
between 13:40 and 14:05" (from an account-wide request). A span ends when its request was made,
so the end of the span that reaches a number's newest message is the "as of" of an answer about
it. A history request with fewer rows than its ``cnt`` is complete back to its ``start``; one
with exactly ``cnt`` rows only down to its oldest row, whichever way SMS Center applies ``cnt``
to a list of numbers (to the whole answer or to each number): the oldest row of each number is
a safe bound under both readings, and a listed number without rows is left unknown. More rows
than ``cnt`` can only be the per-number reading: a number with fewer rows than ``cnt`` is whole.
A status update (``status.php``, a push) changes the status of the message it names and says
nothing about newer messages to the number.

**The bound:** at most ``max_messages`` per account; past it the messages sent earliest are
dropped, and every span that covered a dropped message is cut to start after it, so nothing is
claimed that the picture no longer holds.
"""

from __future__ import annotations

import dataclasses
import heapq
from bisect import insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.smsc import HistoryEntry

__all__ = ["AccountPicture", "Held", "Newest", "Page", "Slice", "digits"]

# Messages kept per account: about two busy hours (30 000 SMS a day) or a week of a small
# account. A message is held as its HistoryEntry (some hundred bytes to a few KB with its text).
MAX_MESSAGES = 20_000

# Send times are whole seconds; a span cut after a dropped message starts this much later.
_AFTER = 0.001

_Key = tuple[str, int] | tuple[str, str, int]


def digits(phone: str) -> str:
    """SMS Center may write a number with "+" or spaces; the picture compares digits only."""
    return "".join(ch for ch in phone if ch.isascii() and ch.isdigit())


@dataclass(frozen=True, slots=True)
class Held:
    """A message as the picture holds it: the entry and when its status was last seen."""

    entry: HistoryEntry
    seen_at: float


@dataclass(frozen=True, slots=True)
class Newest:
    """The newest message to a number as of ``as_of`` (``held`` is None: none was sent)."""

    held: Held | None
    as_of: float


@dataclass(frozen=True, slots=True)
class Page:
    """Messages to a number, newest first; ``complete``: there are no older ones than these
    back to the start of what was asked (six months), so "Older" would find nothing more."""

    held: tuple[Held, ...]
    as_of: float
    complete: bool


@dataclass(frozen=True, slots=True)
class Slice:
    """Messages of the account sent since ``since``, newest first; whole from ``covered_since``."""

    held: tuple[Held, ...]
    since: float
    covered_since: float
    as_of: float


@dataclass
class _Span:
    """Every message sent in [since, until] is held (for one number, or account-wide)."""

    since: float
    until: float


def _add_span(spans: list[_Span], since: float, until: float) -> None:
    """Merge [since, until] into ``spans`` (kept sorted and disjoint)."""
    if until < since:
        return
    spans.append(_Span(since, until))
    spans.sort(key=lambda span: span.since)
    merged: list[_Span] = []
    for span in spans:
        if merged and span.since <= merged[-1].until:
            merged[-1].until = max(merged[-1].until, span.until)
        else:
            merged.append(_Span(span.since, span.until))
    spans[:] = merged


def _cut_before(spans: list[_Span], at: float) -> None:
    """Spans no longer cover send times up to ``at``: the message sent then was dropped."""
    kept: list[_Span] = []
    for span in spans:
        if span.until <= at:
            continue
        kept.append(_Span(max(span.since, at + _AFTER), span.until))
    spans[:] = kept


def _identity(entry: HistoryEntry) -> _Key | None:
    if entry.int_id is not None:
        return ("int", entry.int_id)
    if entry.id is not None and entry.phone:
        return ("id", digits(entry.phone), entry.id)
    return None


class AccountPicture:
    """Everything the bot knows of one account's messages (see the module docstring)."""

    def __init__(self, *, max_messages: int = MAX_MESSAGES) -> None:
        self.max_messages = max_messages
        self._held: dict[_Key, Held] = {}
        self._by_id: dict[tuple[str, int], _Key] = {}  # (number, id) → identity
        self._by_phone: dict[str, list[tuple[float, int, _Key]]] = {}  # oldest first
        self._order: list[tuple[float, int, _Key]] = []  # heap: earliest sent first
        self._account_spans: list[_Span] = []
        self._phone_spans: dict[str, list[_Span]] = {}
        self._seq = 0  # tie-break for messages sent in the same second

    def __len__(self) -> int:
        return len(self._held)

    # --- learning ---------------------------------------------------------------------------

    def learn_history(
        self,
        entries: Sequence[HistoryEntry],
        *,
        at: float,
        since: float,
        cnt: int,
        phones: Iterable[str] | None = None,
        before: float | None = None,
    ) -> None:
        """Merge one history answer, newest first, asked at ``at``.

        ``since`` is the start of the period asked for (its ``start`` date), ``cnt`` the rows
        asked for, ``phones`` the numbers named (None: account-wide), ``before`` the send time
        of the ``prev_id`` message for a page backwards (None: up to ``at``).
        """
        for entry in entries:
            self._merge(entry, at)
        until = at if before is None else before
        sent = [entry.sent_at for entry in entries if entry.sent_at is not None]
        if phones is None:
            if len(entries) < cnt:
                _add_span(self._account_spans, since, until)
            elif sent and len(sent) == len(entries):
                _add_span(self._account_spans, min(sent), until)
            self._shrink()
            return
        listed = {digits(phone) for phone in phones}
        rows: dict[str, list[float]] = {}
        for entry in entries:
            number = digits(entry.phone)
            if entry.sent_at is not None:
                rows.setdefault(number, []).append(entry.sent_at)
        undated = any(entry.sent_at is None for entry in entries)
        # More rows than cnt can only mean cnt applies to each number: then a number with fewer
        # rows than cnt, or none, has every message there.
        per_number = len(entries) > cnt
        for number in listed:
            spans = self._phone_spans.setdefault(number, [])
            if len(entries) < cnt or (per_number and len(rows.get(number, ())) < cnt):
                _add_span(spans, since, until)
            elif number in rows and not undated:
                own = rows[number]
                # Under the per-number reading a number with cnt rows of its own is cut at
                # its own oldest; under the whole-answer reading every number is whole down to
                # the answer's oldest row, which is no later. Either way its own oldest holds.
                _add_span(spans, min(own), until)
            if not spans:
                del self._phone_spans[number]
        self._shrink()

    def learn_status(self, entry: HistoryEntry, *, at: float) -> bool:
        """Update the status of the message ``entry`` names (by number and id, or int_id);
        whether the picture holds it. Says nothing about newer messages to the number."""
        key = _identity(entry)
        if key is not None and key not in self._held and entry.id is not None and entry.phone:
            key = self._by_id.get((digits(entry.phone), entry.id))
        if key is None or key not in self._held:
            return False
        held = self._held[key]
        if held.seen_at > at:
            return True
        changes = {
            name: getattr(entry, name)
            for name in ("status", "err", "last_date", "last_timestamp", "status_name")
            if getattr(entry, name) not in (None, "")
        }
        if "status" in changes and changes["status"] != held.entry.status:
            changes.setdefault("status_name", "")  # SMS Center's words were for the old status
        self._held[key] = Held(dataclasses.replace(held.entry, **changes), at)
        return True

    # --- reading ----------------------------------------------------------------------------

    def newest(self, phone: str, *, start: float) -> Newest | None:
        """The newest message to ``phone`` if the picture can vouch for it, else None.

        ``start`` is the earliest send time a lookup asks about (six months back): a number
        with no message in a span reaching back that far has none (``Newest.held`` is None).
        """
        number = digits(phone)
        spans = self._spans_of(number)
        items = self._by_phone.get(number)
        if items:
            sent_at, _, key = items[-1]
            # The span holding the newest message vouches up to its end; a later span that
            # does not reach back to it leaves a gap where a newer message may hide.
            for span in reversed(spans):
                if span.since <= sent_at <= span.until:
                    return Newest(self._held[key], span.until)
            return None
        if spans and spans[0].since <= start:
            return Newest(None, spans[0].until)
        return None

    def history(
        self, phone: str, count: int, *, start: float, before: int | None = None
    ) -> Page | None:
        """Up to ``count`` messages to ``phone``, newest first (older than the message with
        int_id ``before`` when given); None unless the picture holds every one of them, or all
        there are back to ``start``."""
        number = digits(phone)
        spans = self._spans_of(number)
        if not spans:
            return None
        if before is None:
            upper = spans[-1].until
        else:
            anchor = self._held.get(("int", before))
            if anchor is None or anchor.entry.sent_at is None:
                return None
            upper = anchor.entry.sent_at
        stretch = next((s for s in reversed(spans) if s.since <= upper <= s.until), None)
        if stretch is None:
            return None
        items = self._by_phone.get(number, [])
        if before is None and items and items[-1][0] > upper:
            return None  # a message newer than every span: not vouched for
        found: list[Held] = []
        more = False
        for sent_at, _, key in reversed(items):
            held = self._held[key]
            if sent_at > upper or (before is not None and (held.entry.int_id or 0) >= before):
                continue
            if sent_at < stretch.since:
                more = True  # held, but below the covered stretch: a gap may hide others
                break
            if len(found) == count:
                more = True
                break
            found.append(held)
        whole = stretch.since <= start
        if len(found) < count and not whole:
            return None
        return Page(tuple(found), spans[-1].until, whole and not more)

    def since(self, since: float) -> Slice | None:
        """The account's messages sent since ``since`` with the account-wide span reaching the
        present-most; None when no account-wide span is held."""
        if not self._account_spans:
            return None
        span = self._account_spans[-1]
        covered = max(since, span.since)
        found = [
            self._held[key]
            for sent_at, _, key in sorted(self._order, reverse=True)
            if covered <= sent_at <= span.until
        ]
        return Slice(tuple(found), since, covered, span.until)

    def account_edge(self) -> Held | None:
        """The earliest sent message of the account-wide span reaching the present-most: where a
        page backwards (``prev_id``) continues it. None when no such span is held."""
        if not self._account_spans:
            return None
        since = self._account_spans[-1].since
        inside = [item for item in self._order if item[0] >= since]
        return self._held[min(inside)[2]] if inside else None

    def current(self, entry: HistoryEntry) -> HistoryEntry:
        """``entry`` as the picture holds it now (its status may have been refreshed or pushed
        since it was fetched); ``entry`` itself when not held."""
        key = _identity(entry)
        held = self._held.get(key) if key is not None else None
        if held is None and entry.id is not None and entry.phone:
            found = self._by_id.get((digits(entry.phone), entry.id))
            held = self._held.get(found) if found is not None else None
        return held.entry if held is not None else entry

    def changed_since(self, since: float) -> tuple[Held, ...]:
        """The held messages whose status changed at or after ``since`` (by ``last_timestamp``,
        else the send time): what an on-call watch counts. Read-only."""
        found = []
        for held in self._held.values():
            entry = held.entry
            at = entry.changed_at if entry.changed_at is not None else entry.sent_at
            if at is not None and at >= since:
                found.append(held)
        return tuple(found)

    def sent_at(self, int_id: int) -> float | None:
        """When the held message with ``int_id`` was sent (None: not held, or not said)."""
        held = self._held.get(("int", int_id))
        return held.entry.sent_at if held is not None else None

    # --- inside -----------------------------------------------------------------------------

    def _merge(self, entry: HistoryEntry, at: float) -> None:
        key = _identity(entry)
        if key is None:
            return
        old = self._held.get(key)
        if old is not None:
            if old.seen_at <= at:
                self._held[key] = Held(entry, at)
            return
        self._held[key] = Held(entry, at)
        number = digits(entry.phone)
        if entry.id is not None and number:
            self._by_id[(number, entry.id)] = key
        self._seq += 1
        item = (entry.sent_at if entry.sent_at is not None else 0.0, self._seq, key)
        insort(self._by_phone.setdefault(number, []), item)
        heapq.heappush(self._order, item)

    def _shrink(self) -> None:
        while len(self._held) > self.max_messages and self._order:
            sent_at, seq, key = heapq.heappop(self._order)
            held = self._held.pop(key)
            number = digits(held.entry.phone)
            if held.entry.id is not None:
                self._by_id.pop((number, held.entry.id), None)
            mine = self._by_phone.get(number, [])
            if (sent_at, seq, key) in mine:
                mine.remove((sent_at, seq, key))
            if not mine:
                self._by_phone.pop(number, None)
            _cut_before(self._account_spans, sent_at)
            spans = self._phone_spans.get(number)
            if spans is not None:
                _cut_before(spans, sent_at)
                if not spans:
                    del self._phone_spans[number]

    def _spans_of(self, number: str) -> list[_Span]:
        spans: list[_Span] = []
        for span in (*self._account_spans, *self._phone_spans.get(number, ())):
            _add_span(spans, span.since, span.until)
        return spans
