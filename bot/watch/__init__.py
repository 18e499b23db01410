"""On-call watches (PRODUCT.md §10): the evaluator and its incidents.

- ``evaluator``: pure and on an injectable clock — from what a watch sees of its account (the
  messages whose status became final in its period, or that it cannot see), whether it fires,
  repeats, resolves, goes blind or sees again; one alert per incident.

May import: ``bot.smsc`` (which statuses failed), ``bot.fetch`` and ``bot.store`` (where the
data comes from and where incidents are kept) and the standard library. Never aiogram, never
``bot.text``: what a watch says is rendered by the words layer from the events here.
"""

from bot.watch.evaluator import (
    MIN_FAILURES,
    REPEAT_AFTER,
    Alert,
    Blind,
    Event,
    Incident,
    Outcome,
    Resolved,
    Rule,
    Seeing,
    Sight,
    Tally,
    Verdict,
    WatchState,
    evaluate,
    tally,
)

__all__ = [
    "MIN_FAILURES",
    "REPEAT_AFTER",
    "Alert",
    "Blind",
    "Event",
    "Incident",
    "Outcome",
    "Resolved",
    "Rule",
    "Seeing",
    "Sight",
    "Tally",
    "Verdict",
    "WatchState",
    "evaluate",
    "tally",
]
