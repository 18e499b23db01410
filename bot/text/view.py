"""Who an answer is rendered for: :class:`View`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from bot.text.phrases import Lang

__all__ = ["View"]


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
