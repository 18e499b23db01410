"""aiogram routers, one module per concern, and the one function that wires them.

Routers are built, not imported: aiogram refuses to attach one ``Router`` to two dispatchers,
and the Telegram bot, the console and every test build their own.
"""

from __future__ import annotations

from aiogram import Dispatcher

from bot.services import Services
from handlers import account, admin, errors, lookup
from handlers.middleware import CallerMiddleware, EditsAsNew, InFlight


def make_dispatcher(services: Services) -> Dispatcher:
    """A Dispatcher with every router; ``services``' parts are handed to handlers by name."""
    dispatcher = Dispatcher(
        disable_fsm=True,
        **services.workflow_data(),
        lookups=lookup.Lookups(services.fetcher, services.settings, services.clock),
    )
    in_flight = InFlight()
    dispatcher.update.outer_middleware(EditsAsNew())
    dispatcher.update.outer_middleware(in_flight)
    dispatcher.update.outer_middleware(CallerMiddleware())
    dispatcher["in_flight"] = in_flight
    dispatcher.include_routers(
        account.make_router(),
        admin.make_router(),
        lookup.make_router(),
        errors.make_router(services.clock),
    )
    return dispatcher


def update_types(dispatcher: Dispatcher) -> list[str]:
    """The update types polling asks Telegram for: those with handlers, and edited messages
    (``EditsAsNew`` hands them to the message handlers)."""
    return sorted({*dispatcher.resolve_used_update_types(), "edited_message"})
