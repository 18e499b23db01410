"""The house: layers import one way, the lower ones without aiogram, and modules stay small.

``bot/`` is in layers (STYLE.md): the protocol (``smsc``) and the store at the bottom, the fetch
layer above them, the on-call watch (``watch``) above those, words (``text``) above that, chat
adapters (``chat``) and the HTTP server (``web``) above, and the one composition root
(``app``, ``__main__``, ``demo``) on top; ``handlers/`` is imported only by ``bot/app.py``.
These tests read the import statements, so a wrong import fails here before it surprises
anyone.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"

# What each layer of bot/ may import of bot/ (besides itself).
ALLOWED: dict[str, set[str]] = {
    "smsc": set(),
    "store": set(),
    "settings": {"store"},
    "fetch": {"smsc"},
    "watch": {"smsc", "fetch", "store"},
    "text": {"smsc", "fetch", "watch"},
    "chat": {"smsc", "store", "fetch", "watch", "text", "settings"},
    "demo": {"smsc", "store", "settings"},
    "web": {"smsc", "store", "fetch", "watch", "text", "chat", "settings"},
    "app": {
        "smsc",
        "store",
        "fetch",
        "watch",
        "text",
        "chat",
        "settings",
        "demo",
        "web",
        "handlers",
    },
    "__main__": {"app", "chat", "settings", "store"},
    "__init__": set(),
}
# Pure data tables may be longer than the ~500 lines a module of code should stay under.
DATA_TABLES = {"bot/text/codes.py", "bot/smsc/codes.py", "bot/text/catalogue.py"}
MAX_LINES = 520


def layer_of(path: Path) -> str:
    parts = path.relative_to(BOT).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def bot_modules() -> list[Path]:
    return sorted(BOT.rglob("*.py"))


@pytest.mark.parametrize("path", bot_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_layer_imports_only_the_layers_below_it(path: Path) -> None:
    layer = layer_of(path)
    allowed = ALLOWED[layer] | {layer}
    for module in imported_modules(path):
        top, _, rest = module.partition(".")
        if top == "handlers":
            assert layer == "app", f"{path}: only bot/app.py imports handlers/"
        elif top == "bot":
            used = rest.partition(".")[0]
            assert used in allowed, f"{path} ({layer}) imports {module}"


def test_the_lower_layers_import_without_aiogram() -> None:
    # A fresh interpreter: this test process has aiogram loaded already.
    code = (
        "import sys\n"
        "import bot.smsc, bot.smsc.codes, bot.fetch, bot.store, bot.text, bot.settings, bot.watch\n"
        "import bot.chat.arguments, bot.chat.escaping, bot.chat.telegram_html\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'aiogram')\n"
        "print(len(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "0", result.stdout + result.stderr


def test_no_module_of_code_is_over_about_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in (BOT, ROOT / "handlers")
        for path in folder.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert set(long) <= DATA_TABLES, long


def test_handlers_are_imported_in_one_place_only() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for path in BOT.rglob("*.py")
        if any(m.partition(".")[0] == "handlers" for m in imported_modules(path))
    ]
    assert importers == ["bot/app/services.py"]  # the composition root's Dispatcher
