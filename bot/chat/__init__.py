"""Adapters to a chat: the aiogram ``Bot`` with its retry session middleware, who is asking
(``Caller``) and the role gate, command arguments (``arguments``, pure), a lookup query and the
button that carries it (``queries``), API keys sent in a chat
(``keys``), the audit log of lookups (``audit``), HTML by construction (``escaping``), and the
console (an in-process Bot API session for ``python -m bot shell``).

May import: aiogram, ``bot.text``, ``bot.store``, ``bot.fetch``, ``bot.smsc``, ``bot.settings``.
Never ``handlers/`` or ``bot.app``: the composition root hands it a dispatcher.
"""
