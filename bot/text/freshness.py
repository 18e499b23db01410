"""How fresh an answer is: the line every lookup answer ends with (PRODUCT.md §6).

"as of 14:05:00 MSK" (when the data was fetched, the one time of an answer that names its
zone), "from cache", and for a stale answer its age, why it is stale and when fresh data will
be possible.
"""

from __future__ import annotations

import math
from typing import Any

from bot.fetch import HeldBack, Lookup, Origin
from bot.text import catalogue_answers as phrases
from bot.text.moments import ago, as_of, moment
from bot.text.view import View

__all__ = ["as_of_phrase", "freshness"]


def freshness(lookup: Lookup[Any], view: View, *, update_by: float | None = None) -> str:
    """The line that says how fresh an answer is, in ``<i>…</i>``.

    ``"as of 14:05:00 MSK"`` (when the data was fetched from SMS Center, in ``view.tz``, whose
    short name is said here once per answer), plus
    "from cache" for a cached answer; a stale answer adds its age and why it is stale (the
    quota, SMS Center's request to slow down — both with when fresh data will be possible —
    or SMS Center not answering).
    """
    lang = view.lang
    head = as_of_phrase(lookup.fetched_at, view)
    parts = [head]
    if lookup.origin is Origin.CACHE:
        parts.append(phrases.FROM_CACHE(lang))
    elif lookup.origin is Origin.STALE:
        age = ago(lookup.fetched_at, view)
        if age:
            parts[0] = f"{head} ({age})"
        reason = _held_back(lookup, view)
        if reason:
            parts.append(reason)
    if lookup.status_at is not None:  # refreshed since: "status as of 14:05:10"
        status_at = moment(lookup.status_at, view, seconds=True)
        parts.insert(1, phrases.STATUS_AS_OF(lang).format(time=status_at))
    if update_by is not None and lookup.held_back is not HeldBack.ASKING:
        # Rounded up: "by 14:07" must not pass before the update comes.
        by = moment(math.ceil(update_by / 60) * 60, view)
        parts.append(phrases.UPDATE_COMING(lang).format(time=by))
    return "<i>" + " · ".join(parts) + "</i>"


def as_of_phrase(fetched_at: float, view: View) -> str:
    """``"as of 14:05:00 MSK"``: when an answer's data was fetched, as its freshness line (and
    a refresh that found nothing newer) says it; plain text."""
    return phrases.AS_OF(view.lang).format(time=as_of(fetched_at, view))


def _held_back(lookup: Lookup[Any], view: View) -> str:
    """Why a stale answer is stale, and when fresh data will be possible."""
    lang = view.lang
    at = lookup.fresh_possible_at
    # Rounded up: "after 14:32" must never invite a retry that would still be refused.
    time = moment(math.ceil(at / 60) * 60, view) if at is not None and math.isfinite(at) else ""
    if lookup.held_back is HeldBack.BUDGET:
        return (
            phrases.HELD_BUDGET(lang).format(time=time) if time else phrases.HELD_BUDGET_LATER(lang)
        )
    if lookup.held_back is HeldBack.BACKOFF:
        return (
            phrases.HELD_BACKOFF(lang).format(time=time)
            if time
            else phrases.HELD_BACKOFF_LATER(lang)
        )
    if lookup.held_back is HeldBack.SHARE:
        return (
            phrases.HELD_SHARE(lang).format(time=time) if time else phrases.HELD_BUDGET_LATER(lang)
        )
    if lookup.held_back is HeldBack.UPSTREAM:
        return phrases.HELD_UPSTREAM(lang)
    if lookup.held_back is HeldBack.ASKING:
        return phrases.HELD_ASKING(lang).format(time=time or moment(view.now, view))
    return ""
