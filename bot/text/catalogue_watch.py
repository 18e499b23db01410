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

# --- what a watch says in its chat ----------------------------------------------------------

# The headline a phone's lock screen shows whole (at most 100 characters, plain text).
ALERT_HEADLINE = Text(
    "⚠️ SMS failures {percent} % ({failed} of {final}) in {minutes} min",
    "⚠️ Недоставки SMS {percent} % ({failed} из {final}) за {minutes} мин",
)
ALERT_HEADLINE_REPEAT = Text(
    "⚠️ Still failing: SMS {percent} % ({failed} of {final}) in {minutes} min",
    "⚠️ Недоставки всё ещё {percent} % ({failed} из {final}) за {minutes} мин",
)
ALERT_ERR = Text("err {err}", "ошибка {err}")
ALERT_STATUS = Text("status {status}", "статус {status}")
ALERT_ACCOUNT = Text(
    "Account <b>{name}</b> · failing since {time} · threshold {percent} %",
    "Аккаунт <b>{name}</b> · недоставки с {time} · порог {percent} %",
)
ALERT_COVERS = Text(
    "Counted only {since}–{until}, {minutes} of the {period} min: the newest messages the "
    "watch could fetch reach back no further.",
    "Учтено только {since}–{until}, {minutes} из {period} мин: последние сообщения, которые "
    "удалось загрузить, не уходят дальше.",
)
ALERT_IN_PROGRESS = Text(
    "Still on their way, not counted: {n}",
    "Ещё в пути, не в счёт: {n}",
)
ALERT_OPERATOR_UNKNOWN = Text("operator unknown", "оператор неизвестен")
RESOLVED = Text(
    "✅ Resolved: SMS failures of <b>{name}</b> under {percent} % for {minutes} min "
    "(now {now_percent} %, {failed} of {final}); failing since {time}.",
    "✅ Отбой: недоставки SMS аккаунта <b>{name}</b> ниже {percent} % уже {minutes} мин "
    "(сейчас {now_percent} %, {failed} из {final}); недоставки были с {time}.",
)
BLIND = Text(
    "👁 The watch of <b>{name}</b> is blind since {time}: {reason}. No alert and no "
    "“resolved” until it sees again.",
    "👁 Наблюдение за <b>{name}</b> не видит данных с {time}: {reason}. Ни оповещений, ни "
    "отбоя, пока данные не появятся.",
)
SEEING = Text(
    "👁 The watch of <b>{name}</b> sees again (blind since {time}).",
    "👁 Наблюдение за <b>{name}</b> снова видит данные (не видело с {time}).",
)
BLIND_NO_DATA = Text(
    "no status pushes came and nothing newer was fetched",
    "не было пушей статусов и ничего свежее не загружено",
)
BLIND_SMSC = Text("SMS Center does not answer", "SMS Center не отвечает")
BLIND_KEY = Text("SMS Center refused the account's key", "SMS Center отклонил ключ аккаунта")
BLIND_SLOW = Text(
    "SMS Center asked the bot to slow down (too many requests, or the IP is blocked)",
    "SMS Center попросил бота сбавить темп (слишком много запросов или IP заблокирован)",
)
BUTTON_SILENCE = Text("🔕 Silence 1 h", "🔕 Тишина 1 ч")
BUTTON_DETAILS = Text("📋 Details", "📋 Подробнее")
SILENCED = Text(
    "🔕 Alerts of <b>{name}</b> in this chat silenced until {time} by <code>{user_id}</code>.",
    "🔕 Оповещения о <b>{name}</b> в этом чате выключены до {time}, выключил(а) "
    "<code>{user_id}</code>.",
)
SILENCED_TOAST = Text("Silenced for an hour", "Тишина на час")
WATCH_GONE = Text(
    "This watch was removed; /watch starts a new one.",
    "Этого наблюдения больше нет; /watch — включить новое.",
)
NOT_THIS_ACCOUNT = Text(
    "This watch is of another account than yours.",
    "Это наблюдение за другим аккаунтом, не вашим.",
)
DETAILS_HEAD = Text(
    "📋 <b>{name}</b> since {time}: {failed} failed of {final} final ({percent} %)",
    "📋 <b>{name}</b> с {time}: не доставлено {failed} из {final} ({percent} %)",
)
WATCH_PAUSED_TOLD = Text(
    "⏸ I can no longer write to the chat “{title}”, so its watch of <b>{name}</b> is paused. "
    "Add me back there to resume it.",
    "⏸ Я больше не могу писать в чат «{title}», поэтому наблюдение за <b>{name}</b> там "
    "приостановлено. Верните меня в чат, чтобы его возобновить.",
)
