"""Fitting Telegram HTML into one message: length in UTF-16 code units, and cuts that never
break a tag or an entity.

Telegram counts a message's length in UTF-16 code units, which is never less than ``len()``;
measuring that way keeps the bound whatever Telegram counts. The only tags expected are our own
``<b>``, ``<i>`` and ``<code>`` (without attributes).
"""

from __future__ import annotations

import re
from typing import Final

from bot.text import catalogue_answers as phrases
from bot.text.phrases import Lang

__all__ = ["MAX_MESSAGE", "SEP", "cut_html", "fit", "size"]

#: Telegram's limit for one message's text.
MAX_MESSAGE: Final = 4096
#: Between an answer's blocks: blank lines make blocks scannable on a phone.
SEP: Final = "\n\n"

# fit() shortens a block to fill the room left only if at least this much room is left.
_MIN_PARTIAL: Final = 120
_ELLIPSIS: Final = "…"
# Our own HTML, token by token: a tag, an entity, or one character.
_TOKEN = re.compile(r"<[^<>]*>|&#?[0-9A-Za-z]+;|.", re.DOTALL)


def size(text: str) -> int:
    """Length in UTF-16 code units: what Telegram counts, and never less than ``len()``."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


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
    sizes = [size(block) for block in blocks]
    sep = len(SEP)
    if sum(sizes) + sep * (len(blocks) - 1) <= limit:
        return SEP.join(blocks)

    def more(n: int) -> str:
        return phrases.MORE(lang).format(n=n) if n else ""

    def prefix(k: int) -> int:  # size of the first k blocks joined
        return sum(sizes[:k]) + sep * max(k - 1, 0)

    def room_after(k: int, tail: str) -> int:  # room for one more block after k whole blocks
        return limit - prefix(k) - (sep if k else 0) - (sep + size(tail) if tail else 0)

    # The most whole blocks that leave room for the "… N more" line.
    kept = 0
    for k in range(len(blocks) - 1, 0, -1):
        if room_after(k, "") - size(more(len(blocks) - k)) >= 0:
            kept = k
            break
    # Fill the room left with the start of the next block, if it is worth reading.
    tail = more(len(blocks) - kept - 1)
    room = room_after(kept, tail)
    if room >= _MIN_PARTIAL or kept == 0:
        cut = cut_html(blocks[kept], room)
        if cut:
            joined = SEP.join([*blocks[:kept], cut, *([tail] if tail else [])])
            if size(joined) <= limit:
                return joined
    joined = SEP.join([*blocks[:kept], more(len(blocks) - kept)])
    return joined if size(joined) <= limit else cut_html(joined, limit)


def cut_html(block: str, budget: int) -> str:
    """The longest start of well-formed ``block`` that fits ``budget`` with "…" and closers.

    Cuts only between tokens (a whole tag, a whole entity, or one character), closes every tag
    it leaves open, and drops a tag opened right at the cut. Empty when nothing fits.
    """
    if size(block) <= budget:
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
        cost = size(token)
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
    return result if size(result) <= budget else ""
