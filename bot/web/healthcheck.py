"""The Docker ``HEALTHCHECK``: ``python -m bot.web.healthcheck`` exits 0 when healthy, else 1.

With the HTTP server on (``HTTP_LISTEN``, from the environment, else ``.env`` in the working
folder, else the default), healthy is ``GET /healthz`` answering 200 within 5 s (a 0.0.0.0 or
``::`` address is asked on loopback). With ``HTTP_LISTEN=off`` there is nothing to ask: healthy
is the bot's SQLite database (or the demo one beside it) existing and opening read-only, which
at least catches a lost or broken volume. Standard library and python-dotenv only: it runs
every minute, and must not cost the import of the whole bot.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import urllib.error
import urllib.request
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_DATABASE = "data/bot.sqlite3"
TIMEOUT = 5.0
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 - asked, not bound


def setting(name: str, default: str) -> str:
    """``name`` from the environment, else from ``.env``, else ``default`` (as Settings does)."""
    value = os.environ.get(name)
    if value is None:
        value = dotenv_values(".env").get(name) if Path(".env").is_file() else None
    return (value or default).strip()


def healthz_url(listen: str) -> str:
    """The loopback URL of ``/healthz`` for ``HTTP_LISTEN``'s value."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    host = _LOOPBACK.get(host, host)
    return f"http://[{host}]:{port}/healthz" if ":" in host else f"http://{host}:{port}/healthz"


def server_healthy(url: str) -> bool:
    """Whether ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 - http only
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def database_healthy(database: Path) -> bool:
    """Whether the database (or the demo one beside it) exists and opens read-only."""
    found = [p for p in (database, database.with_name("demo.sqlite3")) if p.is_file()]
    try:
        for path in found:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            connection.close()
    except sqlite3.Error:
        return False
    return bool(found)


def main() -> int:
    """0 when healthy, 1 when not."""
    listen = setting("HTTP_LISTEN", DEFAULT_LISTEN)
    if listen.lower() != "off":
        return 0 if server_healthy(healthz_url(listen)) else 1
    database = Path(setting("DATABASE_PATH", DEFAULT_DATABASE))
    return 0 if database_healthy(database) else 1


if __name__ == "__main__":
    sys.exit(main())
