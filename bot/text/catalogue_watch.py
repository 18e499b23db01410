"""The catalogue's lines of the on-call watch (PRODUCT.md §10): ``/watch``, ``/unwatch``,
``/watches``, and what a watch says in its chat.

Part of the one catalogue (:mod:`bot.text.catalogue` holds the other commands' lines); the
same rules hold: a :class:`Text` per phrase, a :class:`Plural` per phrase about a count ``{n}``,
``{fields}`` filled with text that is already HTML-escaped. Minutes next to the abbreviated
unit ("15 min", "15 мин") need no agreement.
"""

from __future__ import annotations

from bot.text.phrases import Text

# --- /watch, /unwatch, /watches ---------------------------------------------------------------

WATCH_SET = Text(
    "👁 This chat now watches <b>{name}</b>: an alert when {percent} % or more of the messages "
    "whose status became final in the last {minutes} min failed, at least 5 of them. "
    "/unwatch stops it.",
    "👁 Этот чат теперь наблюдает за <b>{name}</b>: оповещение, когда не доставлено "
    "{percent} % или больше сообщений, получивших окончательный статус за последние "
    "{minutes} мин, и не меньше 5. /unwatch — выключить.",
)
WATCH_REPLACED = Text(
    "It replaces this chat's watch of <b>{name}</b> at {percent} % in {minutes} min.",
    "Оно заменяет прежнее наблюдение за <b>{name}</b> в этом чате: {percent} % за {minutes} мин.",
)
UNWATCHED = Text(
    "This chat no longer watches <b>{name}</b>.",
    "Этот чат больше не наблюдает за <b>{name}</b>.",
)
NOT_WATCHED = Text(
    "This chat does not watch <b>{name}</b>; /watch starts it.",
    "Этот чат не наблюдает за <b>{name}</b>; /watch — включить.",
)
WATCHES_NONE = Text(
    "This chat watches no account; /watch starts it.",
    "В этом чате нет наблюдений; /watch — включить.",
)
WATCHES_HEAD = Text("<b>Watches in this chat</b>", "<b>Наблюдения в этом чате</b>")
WATCHES_LINE = Text(
    "• <b>{name}</b>: {percent} % in {minutes} min, set by <code>{user_id}</code> · {state}",
    "• <b>{name}</b>: {percent} % за {minutes} мин, включил(а) <code>{user_id}</code> · {state}",
)
WATCH_STATE_SEEING = Text("data current", "данные актуальны")
WATCH_STATE_NOT_YET = Text("no data yet", "данных пока нет")
WATCH_STATE_STALE = Text("data as of {time}", "данные на {time}")
WATCH_STATE_BLIND = Text("⚠️ blind since {time}", "⚠️ не видит данных с {time}")
WATCH_STATE_PAUSED = Text("paused since {time}", "приостановлено с {time}")
WATCH_STATE_SILENCED = Text("silenced until {time}", "без оповещений до {time}")
WATCH_STATE_FIRING = Text("🔥 failing since {time}", "🔥 недоставки с {time}")
