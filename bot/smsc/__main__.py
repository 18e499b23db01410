"""``python -m bot.smsc [--host H] [--port P]``: serve the simulated SMS Center's demo account
until Ctrl-C. The command line only; the simulator is ``bot.smsc.simulator``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Iterable

from bot.smsc.simulator import DEMO_API_KEY, DEMO_NUMBERS, SimulatedSmsc


async def serve(host: str, port: int) -> None:
    """Serve the demo account on ``host:port`` (0: the OS picks), print where, until cancelled."""
    sim = SimulatedSmsc()
    base = await sim.start(host, port)
    try:
        # The demo key is a published constant that opens nothing but this server.
        print(f"simulated SMS Center on {base}; demo key: {DEMO_API_KEY}")
        for number, shows in DEMO_NUMBERS.items():
            print(f"  {number}: {shows}")
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main(argv: Iterable[str] | None = None) -> None:
    """Parse ``argv`` (default: the command line) and serve the demo account until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.smsc", description="A simulated SMS Center with a demo account."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(None if argv is None else list(argv))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
