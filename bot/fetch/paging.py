"""``/failed`` covers what it says: pages back with ``prev_id`` until the asked hours are held.

The account-wide window (the newest 1000 messages) reaches back half an hour on a busy account.
``page_back`` continues the account picture's account-wide span that reaches the present
backwards, one ``prev_id`` page (1000 messages older than the span's earliest message) at a
time, until the span reaches the asked moment, the page source says no (the purpose's share of
the hour is spent, or SMS Center failed), or ``MAX_PAGES`` pages were asked. A page the picture
already holds joins by itself: spans that meet merge, so held pages cost nothing.

A page that does not move the span's edge back (an overlapping or empty answer) ends the
paging: nothing is asked twice in a loop. What the answer covers is read from the picture
afterwards (``AccountPicture.since``), so it says exactly which part it covers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from bot.fetch.picture import AccountPicture
from bot.smsc import HistoryEntry

__all__ = ["MAX_PAGES", "PAGE_COUNT", "page_back"]

# Rows per page: SMS Center's maximum.
PAGE_COUNT: Final = 1000
# Pages one /failed asks for at most (24 hours of a 30 000-a-day account); the purpose's share
# of the hour usually ends it first.
MAX_PAGES: Final = 30

# A page source: the page older than the message with this int_id and when it was fetched, or
# None when no page can be had now.
PageSource = Callable[[int], Awaitable[tuple[list[HistoryEntry], float] | None]]


async def page_back(
    picture: AccountPicture, since: float, fetch_page: PageSource, *, start: float
) -> int:
    """Page back until the picture's present-most account-wide span reaches ``since``;
    ``start`` is the first moment of the ``start`` date the pages are asked with. Returns the
    pages asked for."""
    asked = 0
    while asked < MAX_PAGES:
        held = picture.since(since)
        edge = picture.account_edge()
        if held is None or held.covered_since <= since or edge is None:
            break
        anchor, anchor_sent = edge.entry.int_id, edge.entry.sent_at
        if anchor is None or anchor_sent is None:
            break
        page = await fetch_page(anchor)
        if page is None:
            break
        asked += 1
        entries, at = page
        picture.learn_history(entries, at=at, since=start, cnt=PAGE_COUNT, before=anchor_sent)
        after = picture.since(since)
        if after is None or after.covered_since >= held.covered_since:
            break  # the page did not reach further back: never ask it again in a loop
    return asked
