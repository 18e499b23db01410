"""The catalogue's lines of the lookup answers (``/last``, ``/history``, ``/recent``, ``/failed``,
``/status``): relative times, the freshness line, the resend verdicts, the answers' labels.

Part of the one catalogue (:mod:`bot.text.catalogue` holds the commands' and the console's
lines); the same rules hold: a :class:`Text` per phrase, a :class:`Plural` per phrase about a
count ``{n}``, ``{fields}`` filled with text that is already HTML-escaped.
"""

from __future__ import annotations

from bot.text.phrases import Plural, Text

# --- answers: times and the freshness line ------------------------------------------------

JUST_NOW = Text("just now", "только что")
MIN_AGO = Plural(
    ("{n} minute ago", "{n} minutes ago"),
    ("{n} минуту назад", "{n} минуты назад", "{n} минут назад"),
)
HOURS_AGO = Plural(
    ("{n} hour ago", "{n} hours ago"),
    ("{n} час назад", "{n} часа назад", "{n} часов назад"),
)
DAYS_AGO = Plural(
    ("{n} day ago", "{n} days ago"),
    ("{n} день назад", "{n} дня назад", "{n} дней назад"),
)
AS_OF = Text("as of {time}", "данные на {time}")
FROM_CACHE = Text("from cache", "из кэша")
# After "as of" when the status was refreshed later than the newest message was known.
STATUS_AS_OF = Text("status as of {time}", "статус на {time}")
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
HELD_ASKING = Text(
    "asking SMS Center: this message will be updated by {time}",
    "запрашиваю SMS Center: сообщение обновится к {time}",
)
UPDATE_COMING = Text("this message will be updated by {time}", "сообщение обновится к {time}")
ASKING = Text(
    "⏳ Asking SMS Center about {phone}: this message will be updated by {time}.",
    "⏳ Запрашиваю SMS Center о номере {phone}: сообщение обновится к {time}.",
)
RESTARTED = Text(
    "⚠️ The bot restarted before SMS Center answered about {phone}: please ask again.",
    "⚠️ Бот перезапустился раньше, чем ответил SMS Center о номере {phone}: спросите ещё раз.",
)
HELD_UPSTREAM = Text(
    "SMS Center is not answering, showing the last data held",
    "SMS Center не отвечает, показаны последние полученные данные",
)

# --- answers: status, error and the resend verdict ----------------------------------------

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
# A message still "waiting to be sent" (-1) or "passed to operator" (0) past the time a
# delivery report normally takes (bot.smsc.codes.REPORT_EXPECTED_WITHIN); the age is on the
# "Sent" line.
OVERDUE_QUEUED = Text(
    "still not passed to the operator, long after its send time — it is stuck; "
    "resending is reasonable",
    "оператору так и не передано, хотя время отправки давно прошло — сообщение застряло; "
    "разумно отправить снова",
)
OVERDUE_REPORT = Text(
    "the operator has had it for long with no delivery report — the report is overdue; "
    "resending is reasonable",
    "сообщение давно у оператора, а отчёта о доставке нет — отчёт запаздывает; "
    "разумно отправить снова",
)

# --- answers: /last and /status -------------------------------------------------------------

NO_OLDER = Text(
    "No older messages to {phone}.",
    "Более ранних сообщений на {phone} нет.",
)
NO_MESSAGES = Text(
    "No messages to {phone} found in the last six months.",
    "Сообщений на {phone} за последние полгода не найдено.",
)
SENT = Text("Sent: {when}", "Отправлено: {when}")
CHANGED = Text("Status changed: {when}", "Статус изменён: {when}")
PUSHED = Text("Status pushed by SMS Center: {when}", "Статус прислан SMS Center (пуш): {when}")
# Under a list (/history, /recent, /failed) whose statuses include pushed ones.
PUSHED_MANY = Plural(
    (
        "📡 {n} status here was pushed by SMS Center, the newest {when}",
        "📡 {n} statuses here were pushed by SMS Center, the newest {when}",
    ),
    (
        "📡 {n} статус здесь прислан SMS Center (пуш), последний {when}",
        "📡 {n} статуса здесь присланы SMS Center (пуш), последний {when}",
        "📡 {n} статусов здесь присланы SMS Center (пуш), последний {when}",
    ),
)
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

# --- answers: /history and /recent ----------------------------------------------------------

HISTORY_HEAD = Plural(
    ("The last {n} message", "The last {n} messages, newest first"),
    (
        "Последнее {n} сообщение",
        "Последние {n} сообщения, сначала новые",
        "Последние {n} сообщений, сначала новые",
    ),
)
# An "Older" page: which messages these are, counted from the number's newest (1 = newest).
HISTORY_PAGE = Text(
    "Messages {first}–{last} counting from the newest, newest first",
    "Сообщения {first}–{last}, считая от последнего, сначала новые",
)
HISTORY_PAGE_ONE = Text(
    "Message {first} counting from the newest",
    "Сообщение {first}, считая от последнего",
)
# An "Older" page whose place is not known (its button had no room to carry it).
HISTORY_OLDER = Text("Older messages, newest first", "Более ранние сообщения, сначала новые")
RECENT_HEAD = Plural(
    ("The account's last {n} message", "The account's last {n} messages"),
    (
        "Последнее {n} сообщение аккаунта",
        "Последние {n} сообщения аккаунта",
        "Последние {n} сообщений аккаунта",
    ),
)
RECENT_NONE = Plural(
    ("No messages sent in the last {n} day.", "No messages sent in the last {n} days."),
    (
        "За последний {n} день сообщений не отправлялось.",
        "За последние {n} дня сообщений не отправлялось.",
        "За последние {n} дней сообщений не отправлялось.",
    ),
)

# --- answers: /failed ------------------------------------------------------------------------

FAILED_HEAD = Text(
    "Undelivered in the last {hours} h: {failed} of {total} sent",
    "Не доставлено за {hours} ч: {failed} из {total}",
)
FAILED_NONE = Plural(
    (
        "✅ No undelivered messages in the last {hours} h ({n} sent).",
        "✅ No undelivered messages in the last {hours} h ({n} sent).",
    ),
    (
        "✅ За {hours} ч недоставленных нет (отправлено {n} сообщение).",
        "✅ За {hours} ч недоставленных нет (отправлено {n} сообщения).",
        "✅ За {hours} ч недоставленных нет (отправлено {n} сообщений).",
    ),
)
FAILED_PARTIAL = Plural(
    (
        "⚠️ Only messages sent since {time} are counted: SMS Center gives {n} message per "
        "request, and this hour's requests for older ones are spent.",
        "⚠️ Only messages sent since {time} are counted: SMS Center gives {n} messages per "
        "request, and this hour's requests for older ones are spent.",
    ),
    (
        "⚠️ Учтены только сообщения, отправленные с {time}: SMS Center отдаёт {n} сообщение "
        "за запрос, а запросы этого часа на более ранние исчерпаны.",
        "⚠️ Учтены только сообщения, отправленные с {time}: SMS Center отдаёт {n} сообщения "
        "за запрос, а запросы этого часа на более ранние исчерпаны.",
        "⚠️ Учтены только сообщения, отправленные с {time}: SMS Center отдаёт {n} сообщений "
        "за запрос, а запросы этого часа на более ранние исчерпаны.",
    ),
)
BY_REASON = Text("By reason", "По причинам")
BY_OPERATOR = Text("By operator", "По операторам")
NEWEST = Text("Newest", "Последние")
OPERATOR_COUNT = Text(
    "{operator} — <b>{failed}</b> of {total}", "{operator} — <b>{failed}</b> из {total}"
)
OPERATOR_MISSING = Text("operator not given", "оператор не указан")
OTHERS = Text("other — <b>{n}</b>", "прочие — <b>{n}</b>")
# The last line of an answer cut to Telegram's limit: how many blocks did not fit.
MORE = Text("… {n} more", "… ещё {n}")

# --- charts (bot.text.chart) ----------------------------------------------------------------

CHART_TITLE = Text(
    "Undelivered SMS by reason · last {span} · {tz}",
    "Недоставленные SMS по причинам · за {span} · {tz}",
)
CHART_SPAN_HOURS = Text("{hours} h", "{hours} ч")
CHART_SPAN_MINUTES = Text("{minutes} min", "{minutes} мин")
CHART_Y_LABEL = Text("failed messages", "недоставленные сообщения")
CHART_OTHER = Text("other reasons", "прочие причины")
