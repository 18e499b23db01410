"""Admin commands: /addkey, /rekey, /delkey, /keys, /grant, /revoke, /users, /audit (/push is
in ``handlers.push``).

The whole router is behind the admin gate (``RoleGate(Role.ADMIN)``); the key of ``/addkey``
and ``/rekey`` is burnt or deleted before the gate, whoever sent it (``bot.chat.keys``), and
checked with SMS Center only after every refusal that needs no request (a taken name, a key
another account has, input no key can be). ``/users`` and ``/audit``
answer only in a private chat: they show who may look up what, and every number looked up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.chat import arguments
from bot.chat.audit import outcome_words
from bot.chat.caller import Caller, PrivateChatOnly, Role, gate
from bot.chat.escaping import Html, fill_html
from bot.chat.keys import CARRIES_KEY, KeyMessages, check_key
from bot.fetch import Fetcher
from bot.settings import Settings
from bot.store import AccountExists, KeyInUse, NoSuchAccount, Storage, key_id
from bot.text import Lang, commands, money
from bot.text import catalogue as texts
from bot.web.pushes import AccountPushes, PushKeys, PushTally

AUDIT_DEFAULT, AUDIT_MAX = 20, 100


def make_router() -> Router:
    """A fresh router with the admin commands, gated once for admins."""
    router = Router(name="admin")
    router.message.middleware(KeyMessages())  # before the gate: a non-admin's key goes too
    gate(router, Role.ADMIN)

    @router.message(Command("addkey"), flags={CARRIES_KEY: True})
    async def addkey(
        message: Message,
        command: CommandObject,
        caller: Caller,
        store: Storage,
        fetcher: Fetcher,
        clock: Callable[[], float],
        key_deleted: bool = False,
    ) -> None:
        lang = caller.lang
        name, apikey = _private_name_and_key("addkey", message, command, lang)
        # Checked before the key is: a taken name or key must not spend a key check.
        if await store.get_account(name) is not None:
            raise AccountExists(name)
        holder = await store.account_holding(key_id(apikey))
        if holder is not None:
            raise KeyInUse(holder)
        balance = await check_key(fetcher, caller.user_id, apikey)
        account = await store.add_account(name, apikey, added_by=caller.user_id, now=clock())
        reply: str = fill_html(
            texts.ADDKEY_OK(lang),
            name=account.name,
            fingerprint=account.fingerprint,
            balance=money(balance, lang),
        )
        if not key_deleted:
            reply += "\n" + texts.KEY_NOT_DELETED(lang)
        await message.answer(reply)

    @router.message(Command("rekey"), flags={CARRIES_KEY: True})
    async def rekey(
        message: Message,
        command: CommandObject,
        caller: Caller,
        store: Storage,
        fetcher: Fetcher,
        clock: Callable[[], float],
        key_deleted: bool = False,
    ) -> None:
        lang = caller.lang
        name, apikey = _private_name_and_key("rekey", message, command, lang)
        # Every refusal that needs no SMS Center comes before the key check.
        account = await store.get_account(name)
        if account is None:
            raise NoSuchAccount(name)
        if account.key_id == key_id(apikey):
            await message.answer(
                fill_html(
                    texts.REKEY_SAME(lang), name=account.name, fingerprint=account.fingerprint
                )
            )
            return
        holder = await store.account_holding(key_id(apikey))
        if holder is not None:
            raise KeyInUse(holder)
        balance = await check_key(fetcher, caller.user_id, apikey)
        rekeyed = await store.rekey(name, apikey, now=clock())
        if not rekeyed.old_key_kept:
            fetcher.forget(rekeyed.old_key_id)  # what was learnt with the old key
        reply: str = fill_html(
            texts.REKEY_OK.template(lang, rekeyed.members),
            name=rekeyed.account.name,
            fingerprint=rekeyed.account.fingerprint,
            old=rekeyed.old_fingerprint,
            balance=balance,
            n=rekeyed.members,
        )
        if not key_deleted:
            reply += "\n" + texts.KEY_NOT_DELETED(lang)
        await message.answer(reply)

    @router.message(Command("delkey"))
    async def delkey(
        message: Message,
        command: CommandObject,
        caller: Caller,
        store: Storage,
        fetcher: Fetcher,
        push_keys: PushKeys,
    ) -> None:
        usage = commands.usage("delkey", caller.lang)
        name = arguments.account_name((command.args or "").strip(), usage)
        account = await store.get_account(name)
        members = await store.delete_account(name)
        if account is None or members is None:
            raise NoSuchAccount(name)
        if await store.account_holding(account.key_id) is None:
            fetcher.forget(account.key_id)  # nobody asks with this key any more
        await push_keys.reload()  # its push secret went with it: its pushes are refused now
        await message.answer(
            fill_html(texts.DELKEY_OK.template(caller.lang, members), name=account.name, n=members)
        )

    @router.message(Command("keys"))
    async def keys(
        message: Message,
        caller: Caller,
        store: Storage,
        settings: Settings,
        push_keys: PushKeys,
        push_tally: PushTally,
    ) -> None:
        lang = caller.lang
        accounts = await store.list_accounts()
        if not accounts:
            await message.answer(texts.KEYS_EMPTY(lang))
            return
        lines = [texts.KEYS_HEADER(lang)]
        for account, members in accounts:
            line: str = fill_html(
                texts.KEYS_LINE.template(lang, members),
                name=account.name,
                fingerprint=account.fingerprint,
                n=members,
                personal=Html(texts.KEYS_PERSONAL(lang) if account.personal else ""),
            )
            if push_keys.get(account.name) is not None:
                line += _pushes(push_tally.of(account.name), caller, settings)
            lines.append(line)
        await message.answer(_fit_lines(lines))

    @router.message(Command("grant"))
    async def grant(
        message: Message,
        command: CommandObject,
        caller: Caller,
        store: Storage,
        clock: Callable[[], float],
    ) -> None:
        lang = caller.lang
        usage = commands.usage("grant", lang)
        user_text, name_text = arguments.split_first(command.args)
        user_id = arguments.user_id(user_text, usage)
        name = arguments.account_name(name_text, usage)
        await store.grant(user_id, name, granted_by=caller.user_id, now=clock())
        await message.answer(fill_html(texts.GRANT_OK(lang), user_id=user_id, name=name))

    @router.message(Command("revoke"))
    async def revoke(
        message: Message, command: CommandObject, caller: Caller, store: Storage
    ) -> None:
        usage = commands.usage("revoke", caller.lang)
        user_id = arguments.user_id((command.args or "").strip(), usage)
        line = texts.REVOKE_OK if await store.revoke(user_id) else texts.REVOKE_NONE
        await message.answer(fill_html(line(caller.lang), user_id=user_id))

    @router.message(Command("users"))
    async def users(message: Message, caller: Caller, store: Storage, settings: Settings) -> None:
        lang = caller.lang
        if message.chat.type != ChatType.PRIVATE:  # who may see what is not the group's business
            raise PrivateChatOnly
        members = await store.list_members()
        if not members:
            await message.answer(texts.USERS_EMPTY(lang))
            return
        lines = [texts.USERS_HEADER(lang)]
        for member in members:
            how = (
                Html(texts.USERS_SELF(lang))
                if member.granted_by is None
                else fill_html(texts.USERS_GRANTED(lang), by=member.granted_by)
            )
            lines.append(
                fill_html(
                    texts.USERS_LINE(lang),
                    user_id=member.user_id,
                    name=member.account.name,
                    how=how,
                    when=_date(member.granted_at, settings),
                )
            )
        await message.answer(_fit_lines(lines))

    @router.message(Command("audit"))
    async def audit(
        message: Message,
        command: CommandObject,
        caller: Caller,
        store: Storage,
        settings: Settings,
    ) -> None:
        lang = caller.lang
        if message.chat.type != ChatType.PRIVATE:  # every number looked up, and by whom
            raise PrivateChatOnly
        usage = commands.usage("audit", lang, max=AUDIT_MAX)
        count = arguments.count(command.args, default=AUDIT_DEFAULT, maximum=AUDIT_MAX, usage=usage)
        entries = await store.recent_audit(count)
        if not entries:
            await message.answer(texts.AUDIT_EMPTY(lang))
            return
        lines: list[str] = [
            fill_html(texts.AUDIT_HEADER.template(lang, len(entries)), n=len(entries))
        ]
        for entry in entries:
            lines.append(
                fill_html(
                    texts.AUDIT_LINE(lang),
                    when=_date(entry.at, settings),
                    user_id=entry.user_id,
                    chat=entry.chat_id,
                    command=entry.command,
                    argument=entry.argument,
                    outcome=outcome_words(entry.outcome, lang),
                )
            )
        await message.answer(_fit_lines(lines))

    return router


def _date(ts: float, settings: Settings) -> str:
    return datetime.fromtimestamp(ts, settings.timezone).strftime("%d.%m %H:%M")


def _fit_lines(lines: list[str], limit: int = 4096) -> str:
    """Whole lines up to Telegram's limit, with "…" when some had to be left out."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - 2:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def _pushes(tally: AccountPushes, caller: Caller, settings: Settings) -> str:
    """ " · pushes on", and the refusals, so that a wrong guess about the signature shows."""
    lang = caller.lang
    text = texts.KEYS_PUSHES(lang)
    refused = sum(tally.refused.values())
    if refused and tally.last_refused_at is not None and tally.last_refusal is not None:
        words = texts.PUSH_REFUSAL_REASONS.get(tally.last_refusal)
        at = datetime.fromtimestamp(tally.last_refused_at, settings.timezone).strftime("%H:%M")
        text += texts.KEYS_PUSHES_REFUSED(
            lang, refused, reason=words(lang) if words else tally.last_refusal, at=at
        )
    return text


def _private_name_and_key(
    name: str, message: Message, command: CommandObject, lang: Lang
) -> tuple[str, str]:
    """``NAME KEY`` of ``/addkey`` or ``/rekey``, read in a private chat only (``PrivateChatOnly``
    elsewhere; ``BadArgument`` with the command's usage for what no name or key can be)."""
    if message.chat.type != ChatType.PRIVATE:
        raise PrivateChatOnly
    usage = commands.usage(name, lang)
    name_text, key_text = arguments.split_first(command.args)
    return arguments.account_name(name_text, usage), arguments.api_key(key_text, usage, lang)
