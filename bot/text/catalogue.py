"""Every user-visible line of the commands and the console, in English and Russian, side by side.

Sections: roles and access, arguments, limits, SMS Center failures, start/help/whoami, keys,
admin, buttons, the command menu, the console's own lines, status pushes. The rest of the one
catalogue: the lookup answers' lines in :mod:`bot.text.catalogue_answers`, and what each status
or error code means beside the code tables in :mod:`bot.text.codes`.

A :class:`Text` is one phrase; a :class:`Plural` is a phrase about a count ``{n}`` with the forms
each language needs (call it with the count). A count next to an abbreviated unit ("5 s",
"3 ч") or after "of"/"из" needs no agreement and stays a :class:`Text`. Placeholders use
``str.format``; values that come from users or SMS Center are escaped by the caller before
formatting (answers are sent in HTML parse mode).
"""

from __future__ import annotations

from bot.text.phrases import Plural, Text

# --- roles and access ---------------------------------------------------------------------

ROLE_ADMIN = Text("admin", "администратор")
ROLE_MEMBER = Text("member", "участник")
ROLE_GUEST = Text("no access", "нет доступа")

NOT_MEMBER = Text(
    "You have no access to SMS lookups yet. "
    "Ask an admin to grant it (your id: <code>{user_id}</code>).",
    "У вас пока нет доступа к проверке SMS. Попросите администратора выдать его "
    "(ваш id: <code>{user_id}</code>).",
)
NOT_MEMBER_SELF_LOGIN = Text(
    "Or send <code>/login YOUR_API_KEY</code> to me in a private chat.",
    "Или пришлите мне в личном чате <code>/login ВАШ_API_КЛЮЧ</code>.",
)
ADMIN_ONLY = Text("This command is for admins only.", "Эта команда только для администраторов.")
# A group asked faster than the bot may post there (about 20 messages a minute): told once.
CHAT_BOUND = Text(
    "🐢 Too many questions in this chat at once: the bot answers again from {time}.",
    "🐢 Слишком много вопросов в этом чате сразу: бот снова ответит с {time}.",
)
PRIVATE_ONLY = Text(
    "Send this command to me in a private chat.",
    "Пришлите эту команду мне в личном чате.",
)
BUTTON_NOT_YOURS = Text(
    "This button belongs to another request; send the command yourself.",
    "Эта кнопка от чужого запроса; отправьте команду сами.",
)
BUTTON_EXPIRED = Text(
    "This button is no longer valid; send the command again.",
    "Кнопка устарела; отправьте команду заново.",
)
NOT_MEMBER_ADMIN = Text(
    "You are an admin, but lookups need access to an account too: "
    "send <code>/grant {user_id} {name}</code>.",
    "Вы администратор, но для проверки нужен и доступ к аккаунту: "
    "отправьте <code>/grant {user_id} {name}</code>.",
)
NOT_MEMBER_ADMIN_CHOOSE = Text(
    "You are an admin, but lookups need access to an account too: "
    "send <code>/grant {user_id} NAME</code>, NAME one of: {names}.",
    "Вы администратор, но для проверки нужен и доступ к аккаунту: "
    "отправьте <code>/grant {user_id} ИМЯ</code>, ИМЯ — одно из: {names}.",
)
NOT_MEMBER_ADMIN_NO_ACCOUNT = Text(
    "You are an admin, but there is no account yet: add one in a private chat with "
    "<code>/addkey NAME API_KEY</code>, then send <code>/grant {user_id} NAME</code>.",
    "Вы администратор, но аккаунтов пока нет: добавьте аккаунт в личном чате командой "
    "<code>/addkey ИМЯ API_КЛЮЧ</code>, затем отправьте <code>/grant {user_id} ИМЯ</code>.",
)

# --- arguments ----------------------------------------------------------------------------

BAD_PHONE = Text(
    "That is not a phone number. Example: <code>{example}</code>",
    "Это не номер телефона. Пример: <code>{example}</code>",
)
# Why a number was refused (bot.text.phones.InvalidPhoneReason), each with the command's
# example from the command table (bot.text.commands.example), so that both always agree.
PHONE_TOO_SHORT = Text(
    "Too few digits for a phone number — is a part missing? Example: <code>{example}</code>",
    "Слишком мало цифр для номера телефона — не пропущена ли часть? Пример: <code>{example}</code>",
)
PHONE_TOO_LONG = Text(
    "Too many digits for one phone number (at most 15 with the country code). "
    "Example: <code>{example}</code>",
    "Слишком много цифр для одного номера (не больше 15 вместе с кодом страны). "
    "Пример: <code>{example}</code>",
)
PHONE_TWO_NUMBERS = Text(
    "That looks like two numbers: send one at a time. Example: <code>{example}</code>",
    "Похоже, здесь два номера: присылайте по одному. Пример: <code>{example}</code>",
)
PHONE_LETTERS = Text(
    "A phone number has no letters: send only the digits (with + and the country code). "
    "Example: <code>{example}</code>",
    "В номере телефона не бывает букв: пришлите только цифры (с + и кодом страны). "
    "Пример: <code>{example}</code>",
)
PHONE_INVISIBLE = Text(
    "The number holds invisible or unusual characters (copied from somewhere?): "
    "type it by hand. Example: <code>{example}</code>",
    "В номере есть невидимые или необычные символы (скопирован откуда-то?): "
    "наберите его вручную. Пример: <code>{example}</code>",
)
PHONE_IMPOSSIBLE = Text(
    "No phone number is written like that: check the country code. Example: <code>{example}</code>",
    "Такого номера не бывает: проверьте код страны. Пример: <code>{example}</code>",
)

# --- limits -------------------------------------------------------------------------------

USER_RATE_LIMITED = Text(
    "Too many lookups in a row — try again in {seconds} s.",
    "Слишком много запросов подряд — повторите через {seconds} с.",
)
QUOTA_EXHAUSTED = Text(
    "This account's SMS Center request limit for the hour is used up; "
    "a fresh request is possible at {time}.",
    "Лимит запросов к SMS Center для этого аккаунта на этот час исчерпан; "
    "новый запрос возможен в {time}.",
)
USER_SHARE_SPENT = Text(
    "You have used your share of this hour's SMS Center requests ({share} of {budget}), so that "
    "colleagues can still ask; a fresh request is possible at {time}.",
    "Вы использовали свою долю запросов к SMS Center на этот час ({share} из {budget}), чтобы "
    "коллеги тоже могли спрашивать; новый запрос возможен в {time}.",
)
KEY_CHECKS_PAUSED = Text(
    "Too many wrong API keys were tried recently. SMS Center blocks the bot's IP after five, "
    "so keys are checked again from {time}.",
    "Недавно было слишком много неверных API-ключей. После пяти SMS Center блокирует IP бота, "
    "поэтому ключи снова проверяются с {time}.",
)
BACKING_OFF = Text(
    "SMS Center asked the bot to slow down; the next request is possible at {time}.",
    "SMS Center попросил бот снизить частоту запросов; следующий запрос возможен в {time}.",
)

# --- SMS Center failures (one line each) --------------------------------------------------

SMSC_CONNECT = Text(
    "SMS Center cannot be reached right now — try again in a minute.",
    "SMS Center сейчас недоступен — попробуйте через минуту.",
)
SMSC_TIMEOUT = Text(
    "SMS Center did not answer in {seconds} s — try again shortly.",
    "SMS Center не ответил за {seconds} с — попробуйте чуть позже.",
)
SMSC_HTTP = Text(
    "SMS Center is having trouble (HTTP {status}) — try again in a few minutes.",
    "У SMS Center сбой (HTTP {status}) — попробуйте через несколько минут.",
)
# A /last whose number three answers in a row did not reach (other numbers filled them).
NUMBER_NOT_REACHED = Text(
    "SMS Center's answers were filled by messages to other numbers before reaching this one — "
    "ask again in a few minutes.",
    "Ответы SMS Center заполнились сообщениями на другие номера и не дошли до этого — "
    "спросите ещё раз через несколько минут.",
)
SMSC_MALFORMED = Text(
    "SMS Center sent an answer the bot cannot read — "
    "try again later; if it repeats, tell an admin.",
    "SMS Center прислал ответ, который бот не может разобрать — попробуйте позже; "
    "если повторится, сообщите администратору.",
)
SMSC_BAD_PARAMETERS = Text(
    "SMS Center rejected the request's parameters (error 1) — check the number or id.",
    "SMS Center отклонил параметры запроса (ошибка 1) — проверьте номер или id.",
)
SMSC_BAD_CREDENTIALS = Text(
    "SMS Center refused this account's API key (error 2): it was changed, or the bot's IP "
    "is not allowed — ask an admin to check it.",
    "SMS Center не принял API-ключ аккаунта (ошибка 2): ключ сменили или IP бота не разрешён — "
    "попросите администратора проверить.",
)
SMSC_NOT_FOUND = Text(
    "SMS Center found nothing (error 3).", "SMS Center ничего не нашёл (ошибка 3)."
)
SMSC_IP_BLOCKED = Text(
    "SMS Center has temporarily blocked the bot's IP address (error 4) — "
    "lookups resume in about 30 minutes.",
    "SMS Center временно заблокировал IP-адрес бота (ошибка 4) — "
    "проверка возобновится примерно через 30 минут.",
)
SMSC_RATE_LIMITED = Text(
    "SMS Center says too many requests (error 9) — the bot waits before asking again.",
    "SMS Center сообщает о слишком частых запросах (ошибка 9) — бот подождёт перед новым запросом.",
)
SMSC_OTHER = Text(
    "SMS Center answered with error {code}: {description}",
    "SMS Center ответил ошибкой {code}: {description}",
)
INTERNAL_ERROR = Text(
    "Something went wrong on the bot's side; it is logged. Please try again.",
    "Что-то пошло не так на стороне бота; ошибка записана. Попробуйте ещё раз.",
)
STORAGE_ERROR = Text(
    "The bot's database is busy or unavailable — nothing was changed. Try again in a moment.",
    "База данных бота занята или недоступна — ничего не изменено. Попробуйте через минуту.",
)

# --- start / help / whoami ----------------------------------------------------------------

START = Text(
    "I answer questions about SMS sent through SMS Center: what happened to a message, "
    "why it failed, and whether sending it again can help.",
    "Я отвечаю на вопросы об SMS, отправленных через SMS Center: что стало с сообщением, "
    "почему оно не дошло и поможет ли отправить его снова.",
)
WHOAMI = Text(
    "Your id: <code>{user_id}</code>\nRole: {role}",
    "Ваш id: <code>{user_id}</code>\nРоль: {role}",
)
WHOAMI_ACCOUNT = Text(
    "Account: <b>{name}</b> (key {fingerprint})\n"
    "SMS Center history requests left this hour: {left} of {limit}",
    "Аккаунт: <b>{name}</b> (ключ {fingerprint})\n"
    "Запросов истории к SMS Center осталось в этот час: {left} из {limit}",
)
WHOAMI_SHARE = Text(
    "Yours of them: {left} of {share} (/history, /recent, /failed); numbers asked with /last go "
    "together in shared requests",
    "Из них ваших: {left} из {share} (/history, /recent, /failed); номера из /last "
    "запрашиваются вместе, общими запросами",
)

# --- keys: /login, /addkey ----------------------------------------------------------------

LOGIN_DISABLED = Text(
    "Self-login is turned off here; ask an admin to grant you access.",
    "Самостоятельный вход отключён; попросите администратора выдать доступ.",
)
KEY_IN_GROUP = Text(
    "⚠️ {name}, an API key must never be sent in a group: everyone here has seen it. "
    "I did not use it. "
    "Revoke that key in SMS Center now and send a new one to me in a private chat.",
    "⚠️ {name}, API-ключ нельзя отправлять в группу: его видели все участники. "
    "Я его не использовал. Отзовите этот ключ в SMS Center и пришлите новый мне в личном чате.",
)
KEY_NOT_DELETED = Text(
    "I could not delete the message with the key — please delete it yourself.",
    "Не удалось удалить сообщение с ключом — удалите его, пожалуйста, сами.",
)
KEY_REFUSED = Text(
    "SMS Center did not accept that key (error 2). Check it and send it again.",
    "SMS Center не принял этот ключ (ошибка 2). Проверьте его и пришлите снова.",
)
KEY_UNCHECKED = Text(
    "The key could not be checked with SMS Center, so it was not saved: {reason}",
    "Ключ не удалось проверить в SMS Center, поэтому он не сохранён: {reason}",
)
LOGIN_OK = Text(
    "Done: you now use account <b>{name}</b> (key {fingerprint}, balance {balance}). "
    "Your message with the key was deleted.",
    "Готово: вы используете аккаунт <b>{name}</b> (ключ {fingerprint}, баланс {balance}). "
    "Сообщение с ключом удалено.",
)
LOGOUT_OK = Text("Your access was removed.", "Ваш доступ удалён.")
LOGOUT_NONE = Text("You had no access to remove.", "У вас и не было доступа.")
ADDKEY_OK = Text(
    "Account <b>{name}</b> added (key {fingerprint}, balance {balance}). "
    "Your message with the key was deleted. Now <code>/grant USER_ID {name}</code>.",
    "Аккаунт <b>{name}</b> добавлен (ключ {fingerprint}, баланс {balance}). "
    "Сообщение с ключом удалено. Теперь <code>/grant USER_ID {name}</code>.",
)
ADDKEY_EXISTS = Text(
    "An account named <b>{name}</b> already exists (names ignore letter case): pick another "
    "name, or replace its key with <code>/rekey {name} NEW_KEY</code>.",
    "Аккаунт <b>{name}</b> уже есть (регистр букв в именах не важен): выберите другое имя "
    "или замените его ключ: <code>/rekey {name} НОВЫЙ_КЛЮЧ</code>.",
)
KEY_IN_USE = Text(
    "That key is already the key of account <b>{name}</b>, so nothing was added: one key, one "
    "account. <code>/grant USER_ID {name}</code> gives people access to it.",
    "Этот ключ уже принадлежит аккаунту <b>{name}</b>, поэтому ничего не добавлено: один ключ — "
    "один аккаунт. Доступ к нему даёт <code>/grant USER_ID {name}</code>.",
)
NOT_A_KEY = Text(
    "That cannot be an SMS Center API key: {why}. Nothing was sent to SMS Center; copy the key "
    "again (SMS Center → Settings → API key).",
    "Это не может быть API-ключом SMS Center: {why}. В SMS Center ничего не отправлено; "
    "скопируйте ключ ещё раз (SMS Center → Настройки → API-ключ).",
)
NOT_A_KEY_SPACES = Text("it has spaces inside", "в нём есть пробелы")
NOT_A_KEY_CHARACTERS = Text(
    "it has characters other than Latin letters, digits and punctuation",
    "в нём есть символы кроме латинских букв, цифр и знаков препинания",
)
NOT_A_KEY_LENGTH = Text("it is longer than 256 characters", "он длиннее 256 символов")
REKEY_OK = Plural(
    (
        "Account <b>{name}</b> now uses key {fingerprint} (was {old}, balance {balance}); its "
        "{n} member keeps access, and this hour's SMS Center requests still count. What the bot "
        "held from the old key was dropped; your message with the key was deleted.",
        "Account <b>{name}</b> now uses key {fingerprint} (was {old}, balance {balance}); its "
        "{n} members keep access, and this hour's SMS Center requests still count. What the "
        "bot held from the old key was dropped; your message with the key was deleted.",
    ),
    (
        "Аккаунт <b>{name}</b> теперь использует ключ {fingerprint} (был {old}, баланс "
        "{balance}); доступ сохранил {n} участник, запросы к SMS Center за этот час "
        "по-прежнему учитываются. Данные старого ключа удалены; сообщение с ключом удалено.",
        "Аккаунт <b>{name}</b> теперь использует ключ {fingerprint} (был {old}, баланс "
        "{balance}); доступ сохранили {n} участника, запросы к SMS Center за этот час "
        "по-прежнему учитываются. Данные старого ключа удалены; сообщение с ключом удалено.",
        "Аккаунт <b>{name}</b> теперь использует ключ {fingerprint} (был {old}, баланс "
        "{balance}); доступ сохранили {n} участников, запросы к SMS Center за этот час "
        "по-прежнему учитываются. Данные старого ключа удалены; сообщение с ключом удалено.",
    ),
)
REKEY_SAME = Text(
    "That is already the key of account <b>{name}</b> (key {fingerprint}); nothing changed.",
    "Это и так ключ аккаунта <b>{name}</b> (ключ {fingerprint}); ничего не изменилось.",
)

# --- admin --------------------------------------------------------------------------------

DELKEY_OK = Plural(
    (
        "Account <b>{name}</b> removed; {n} member lost access.",
        "Account <b>{name}</b> removed; {n} members lost access.",
    ),
    (
        "Аккаунт <b>{name}</b> удалён; доступ потерял {n} участник.",
        "Аккаунт <b>{name}</b> удалён; доступ потеряли {n} участника.",
        "Аккаунт <b>{name}</b> удалён; доступ потеряли {n} участников.",
    ),
)
NO_SUCH_ACCOUNT = Text(
    "There is no account named <b>{name}</b>; see /keys.",
    "Аккаунта <b>{name}</b> нет; см. /keys.",
)
KEYS_HEADER = Text("<b>Accounts</b>", "<b>Аккаунты</b>")
KEYS_LINE = Plural(
    (
        "• <b>{name}</b> — key {fingerprint}, {n} member{personal}",
        "• <b>{name}</b> — key {fingerprint}, {n} members{personal}",
    ),
    (
        "• <b>{name}</b> — ключ {fingerprint}, {n} участник{personal}",
        "• <b>{name}</b> — ключ {fingerprint}, {n} участника{personal}",
        "• <b>{name}</b> — ключ {fingerprint}, {n} участников{personal}",
    ),
)
KEYS_PERSONAL = Text(" (own key via /login)", " (свой ключ через /login)")
KEYS_EMPTY = Text(
    "No accounts yet. Add one: <code>/addkey NAME API_KEY</code> in a private chat.",
    "Аккаунтов пока нет. Добавьте: <code>/addkey ИМЯ API_КЛЮЧ</code> в личном чате.",
)
GRANT_OK = Text(
    "User <code>{user_id}</code> now uses account <b>{name}</b>.",
    "Пользователь <code>{user_id}</code> теперь использует аккаунт <b>{name}</b>.",
)
REVOKE_OK = Text(
    "User <code>{user_id}</code> has no access any more.",
    "У пользователя <code>{user_id}</code> больше нет доступа.",
)
REVOKE_NONE = Text(
    "User <code>{user_id}</code> had no access.",
    "У пользователя <code>{user_id}</code> и не было доступа.",
)
USERS_HEADER = Text("<b>Members</b>", "<b>Участники</b>")
USERS_LINE = Text(
    "• <code>{user_id}</code> → <b>{name}</b>, {how} {when}",
    "• <code>{user_id}</code> → <b>{name}</b>, {how} {when}",
)
USERS_GRANTED = Text("granted by {by}", "выдал {by}")
USERS_SELF = Text("own key", "свой ключ")
USERS_EMPTY = Text("Nobody has access yet.", "Пока ни у кого нет доступа.")
AUDIT_HEADER = Plural(
    ("<b>Last {n} lookup</b>", "<b>Last {n} lookups</b>"),
    (
        "<b>Последний {n} запрос</b>",
        "<b>Последние {n} запроса</b>",
        "<b>Последние {n} запросов</b>",
    ),
)
AUDIT_LINE = Text(
    "{when} · <code>{user_id}</code> in {chat} · /{command} {argument} → {outcome}",
    "{when} · <code>{user_id}</code> в {chat} · /{command} {argument} → {outcome}",
)
AUDIT_EMPTY = Text("The audit log is empty.", "Журнал пуст.")
# What each audit outcome code means (``bot.chat.audit``): a lookup's own outcome, or the class
# of the error that answered it, recorded as its nearest ancestor named here.
AUDIT_OUTCOMES: dict[str, Text] = {
    "fresh": Text("answered, fresh from SMS Center", "ответ, свежие данные SMS Center"),
    "cache": Text("answered from data held", "ответ из сохранённых данных"),
    "stale": Text(
        "answered with older data (a fresh request held back)",
        "ответ старыми данными (свежий запрос отложен)",
    ),
    "pending": Text("answered at once, the result followed", "ответ сразу, результат позже"),
    "ok": Text("answered", "ответ дан"),
    "refused:not-owner": Text("refused: someone else's button", "отказ: чужая кнопка"),
    "refused:expired": Text("refused: an outdated button", "отказ: устаревшая кнопка"),
    "refused:unknown": Text("refused: an unknown button", "отказ: неизвестная кнопка"),
    "BadArgument": Text("not understood: told the usage", "не понято: отправлен формат"),
    "NotAuthorized": Text("refused: no access", "отказ: нет доступа"),
    "PrivateChatOnly": Text("refused: private chat only", "отказ: только в личном чате"),
    "UserRateLimited": Text(
        "refused: too many lookups in a row", "отказ: слишком много запросов подряд"
    ),
    "QuotaExhausted": Text(
        "refused: the hour's SMS Center limit is used up",
        "отказ: часовой лимит SMS Center исчерпан",
    ),
    "KeyChecksPaused": Text("refused: key checks paused", "отказ: проверка ключей приостановлена"),
    "KeyRefused": Text("SMS Center refused the key", "SMS Center не принял ключ"),
    "KeyUnchecked": Text("the key could not be checked", "ключ не удалось проверить"),
    "SmscError": Text("SMS Center failed", "сбой SMS Center"),
    "SmscConnectError": Text("SMS Center unreachable", "SMS Center недоступен"),
    "SmscTimeout": Text("SMS Center did not answer in time", "SMS Center не ответил вовремя"),
    "SmscHTTPError": Text("SMS Center failed (HTTP error)", "сбой SMS Center (ошибка HTTP)"),
    "NumberNotReached": Text(
        "SMS Center's answers did not reach the number", "ответы SMS Center не дошли до номера"
    ),
    "SmscMalformedResponse": Text(
        "SMS Center's answer could not be read", "ответ SMS Center не удалось разобрать"
    ),
    "SmscApiError": Text("SMS Center answered with an error", "SMS Center ответил ошибкой"),
    "SmscBadParameters": Text(
        "SMS Center error 1: bad parameters", "SMS Center, ошибка 1: неверные параметры"
    ),
    "SmscBadCredentials": Text(
        "SMS Center error 2: the account's key refused", "SMS Center, ошибка 2: ключ не принят"
    ),
    "SmscNotFound": Text(
        "SMS Center error 3: nothing found", "SMS Center, ошибка 3: ничего не найдено"
    ),
    "SmscIPBlocked": Text(
        "SMS Center error 4: the bot's IP blocked", "SMS Center, ошибка 4: IP бота заблокирован"
    ),
    "SmscRateLimited": Text(
        "SMS Center error 9: too many requests", "SMS Center, ошибка 9: слишком частые запросы"
    ),
    "StorageError": Text("the bot's database failed", "сбой базы данных бота"),
    "TelegramAPIError": Text("Telegram refused the answer", "Telegram не принял ответ"),
    "TelegramServerError": Text("Telegram failed (server error)", "сбой Telegram (ошибка сервера)"),
    "TelegramNetworkError": Text("Telegram unreachable", "Telegram недоступен"),
    "TelegramRetryAfter": Text("Telegram asked to slow down", "Telegram попросил снизить частоту"),
    "TelegramForbiddenError": Text(
        "Telegram: the bot is blocked or not in the chat",
        "Telegram: бот заблокирован или не в чате",
    ),
    "error": Text("failed on the bot's side (see the log)", "сбой на стороне бота (см. журнал)"),
}

# --- hints: what a private chat is told when a message is no command of ours -------------

HINT_PLAIN = Text(
    "Send me a phone number, e.g. <code>+7 999 123-45-67</code>, to see the last SMS sent to "
    "it; /help lists every command.",
    "Пришлите мне номер телефона, например <code>+7 999 123-45-67</code>, и я покажу последнее "
    "SMS на него; /help — все команды.",
)
HINT_NUMBER_IN_TEXT = Text(
    "To look up a number, send it on its own or as <code>/last NUMBER</code>.",
    "Чтобы проверить номер, пришлите его отдельно или как <code>/last НОМЕР</code>.",
)
HINT_UNKNOWN_COMMAND = Text(
    "I don't know /{command}; /help lists the commands I know.",
    "Команды /{command} я не знаю; /help — список моих команд.",
)
HINT_LOWERCASE = Text(
    "Commands are written in lowercase: /{command}",
    "Команды пишутся строчными буквами: /{command}",
)
BUTTON_LOOK_UP = Text("🔎 Look up {phone}?", "🔎 Проверить {phone}?")

# --- buttons ------------------------------------------------------------------------------

BUTTON_REFRESH = Text("🔄 Refresh", "🔄 Обновить")
# A refresh whose data is what the answer already shows: the press says so (a toast).
NO_NEWER = Text("No newer data · {as_of}", "Новых данных нет · {as_of}")
BUTTON_OLDER = Text("⬅️ Older", "⬅️ Раньше")
BUTTON_CHART = Text("📈 Chart", "📈 График")
# A "Chart" press is answered at once (the photo follows) or, with nothing failed now, says so.
CHART_COMING = Text("📈 Drawing the chart…", "📈 Рисую график…")
CHART_NOTHING = Text(
    "Nothing failed in the last {hours} h: no chart to draw.",
    "За последние {hours} ч недоставленных нет: графика не будет.",
)


# --- the console (python -m bot shell) ------------------------------------------------------

CONSOLE_DELETED = Text("(message deleted)", "(сообщение удалено)")
CONSOLE_ALERT = Text("(alert)", "(уведомление)")
CONSOLE_UNCHANGED = Text("(unchanged)", "(без изменений)")
CONSOLE_EDITED = Text("(edited)", "(изменено)")
CONSOLE_BUTTONS_CHANGED = Text("(buttons changed)", "(кнопки изменились)")
CONSOLE_NO_ANSWER = Text("(no answer)", "(нет ответа)")
CONSOLE_BOT_FAILED = Text(
    "(the bot failed on this line; see the log)", "(бот не справился с этой строкой; см. журнал)"
)
CONSOLE_TITLE = Text("SMS status bot console", "Консоль бота статусов SMS")
CONSOLE_TITLE_DEMO = Text(" (demo: simulated SMS Center)", " (демо: имитация SMS Center)")
CONSOLE_YOU_ADMIN = Text(
    "You are user {user_id}, an admin.", "Вы пользователь {user_id}, администратор."
)
CONSOLE_YOU_NOT_ADMIN = Text(
    "You are user {user_id}, not an admin.", "Вы пользователь {user_id}, не администратор."
)
CONSOLE_HOW = Text(
    "Type commands as in a chat (/help). A button's number presses it. /quit or Ctrl-D leaves.",
    "Пишите команды как в чате (/help). Номер кнопки нажимает её. /quit или Ctrl-D — выход.",
)
CONSOLE_TRY = Text("Numbers worth trying:", "Номера, которые стоит попробовать:")
CONSOLE_NO_ACCESS = Text(
    "User {user_id} has no access: to try as a member, run the console without --user "
    "and /grant {user_id} {account}.",
    "У пользователя {user_id} нет доступа: чтобы попробовать как участник, запустите консоль "
    "без --user и выполните /grant {user_id} {account}.",
)
CONSOLE_KEY_HIDDEN = Text("‹key hidden›", "‹ключ скрыт›")
# What the console prints for a photo it cannot show.
CONSOLE_PHOTO = Text("[photo: {name}, {kb} KB]", "[фото: {name}, {kb} КБ]")

# --- phone numbers: ten digits without a country code, /history's count -------------------

NO_COUNTRY_CODE = Text(
    "Ten digits are read as a Russian number, and these are not one: add the country code, "
    "e.g. <code>+375 29 123-45-67</code>. Example: <code>{example}</code>",
    "Десять цифр читаются как российский номер, а это не он: добавьте код страны, "
    "например <code>+375 29 123-45-67</code>. Пример: <code>{example}</code>",
)
HISTORY_WHICH = Text(
    "Is the {count} at the end part of the number? Send <code>/history +{whole}</code> for "
    "{whole_shown}, or <code>/history +{split} {count}</code> for {split_shown} with N = {count}.",
    "{count} в конце — часть номера? Отправьте <code>/history +{whole}</code> для "
    "{whole_shown} или <code>/history +{split} {count}</code> для {split_shown} с N = {count}.",
)


# --- status pushes (/push, /keys) ------------------------------------------------------------

PUSH_URL = Text(
    "Status pushes for <b>{name}</b>: paste this handler URL into SMS Center (cabinet → User "
    "settings → handler URL). It holds the push secret: this message is deleted in 10 minutes."
    "\n\n<code>{url}</code>",
    "Пуши статусов для <b>{name}</b>: вставьте этот адрес обработчика в SMS Center (кабинет → "
    "Настройки пользователя → адрес обработчика). В нём секрет: это сообщение будет удалено "
    "через 10 минут.\n\n<code>{url}</code>",
)
PUSH_ROTATED = Text(
    "New secret made; the old one is still accepted for an hour.",
    "Создан новый секрет; старый принимается ещё час.",
)
PUSH_OFF = Text(
    "Status pushes for <b>{name}</b> are off: pushes signed with its secret are refused.",
    "Пуши статусов для <b>{name}</b> выключены: пуши с его секретом отклоняются.",
)
PUSH_WAS_OFF = Text(
    "Status pushes for <b>{name}</b> were not on.",
    "Пуши статусов для <b>{name}</b> и не были включены.",
)
PUSH_NEEDS_PUBLIC_URL = Text(
    "Status pushes need the bot's public address: set PUBLIC_URL (and HTTP_LISTEN) and restart.",
    "Для пушей нужен публичный адрес бота: задайте PUBLIC_URL (и HTTP_LISTEN) и перезапустите.",
)
PUSH_RELAY_ON = Text(
    "Verified pushes for <b>{name}</b> are now passed on to {host}, re-signed with its secret.",
    "Проверенные пуши для <b>{name}</b> теперь передаются на {host}, с его подписью.",
)
PUSH_RELAY_OFF = Text(
    "Pushes for <b>{name}</b> are no longer passed on.",
    "Пуши для <b>{name}</b> больше никуда не передаются.",
)
PUSH_RELAY_NEEDS_PUSHES = Text(
    "Turn pushes on first: <code>/push {name}</code>.",
    "Сначала включите пуши: <code>/push {name}</code>.",
)
PUSH_RELAY_USAGE = Text(
    "Usage: <code>/push NAME relay URL</code>, the other system's whole handler URL with its "
    "<code>md5=</code> or <code>sha1=</code> field; <code>/push NAME relay off</code> stops it.",
    "Формат: <code>/push ИМЯ relay URL</code>, полный адрес обработчика другой системы с полем "
    "<code>md5=</code> или <code>sha1=</code>; <code>/push ИМЯ relay off</code> — перестать.",
)
PUSH_RELAY_NOT_DELETED = Text(
    "I could not delete your message with the URL: delete it yourself, it holds a secret.",
    "Не удалось удалить ваше сообщение с адресом: удалите его сами, в нём секрет.",
)
KEYS_PUSHES = Text(" · pushes on", " · пуши включены")
KEYS_PUSHES_REFUSED = Plural(
    (
        " · {n} push refused: {reason}, last at {at}",
        " · {n} pushes refused: {reason}, last at {at}",
    ),
    (
        " · {n} пуш отклонён: {reason}, последний в {at}",
        " · {n} пуша отклонено: {reason}, последний в {at}",
        " · {n} пушей отклонено: {reason}, последний в {at}",
    ),
)
PUSH_REFUSAL_REASONS: dict[str, Text] = {
    "bad_signature": Text("bad signature", "неверная подпись"),
    "unsigned": Text("no signature", "без подписи"),
}
