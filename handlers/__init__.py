"""aiogram routers, one module per concern, each built by its ``make_router()``.

Handlers are thin: parse the argument, call ``bot/``, answer. They are wired together only in
the composition root, ``bot.app.make_dispatcher``; no handler module imports another.
"""
