# SMS delivery-status Telegram bot.
#   docker build -t smsc-status-bot .
#   docker run -d --name smsc-bot --env-file .env -v smsc-bot-data:/data -p 127.0.0.1:8080:8080 \
#       smsc-status-bot
# Try it without any account:  docker run --rm -it smsc-status-bot python -m bot shell --demo
# The database and the generated encryption key file live in the /data volume: back them up
# together (or set ENCRYPTION_KEY); a bind-mounted folder must be writable by uid 10001.
# Configuration comes from the environment (.env.example); .env is never copied into the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change,
# not on every code change.
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself, without dependencies (they are installed above).
COPY README.md ./
COPY bot/ bot/
COPY handlers/ handlers/
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# An unprivileged user that owns only the data volume.
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin bot \
    && mkdir /data \
    && chown bot:bot /data \
    && chmod 0700 /data
ENV DATABASE_PATH=/data/bot.sqlite3
VOLUME ["/data"]
# Run from an empty folder: `python -m bot` must import the installed package, not /src,
# and a .env may be mounted here (/app/.env) instead of passing --env-file.
WORKDIR /app
USER 10001:10001

# The bot's HTTP server (/healthz, /metrics, the Telegram webhook) listens on every interface
# of the container; publish it behind a reverse proxy (README, Deployment).
ENV HTTP_LISTEN=0.0.0.0:8080
EXPOSE 8080

# Healthy when GET /healthz answers 200 (503: the database cannot be written, or the webhook
# could not be set). With HTTP_LISTEN=off, when the database exists and opens read-only.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.web.healthcheck"]

# Exec form: the bot is PID 1 and receives SIGTERM itself; it finishes answers in flight.
CMD ["python", "-m", "bot"]
