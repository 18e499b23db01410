"""The bot's one HTTP server (PRODUCT.md §9), in the bot's own process.

- ``server``: the socket bound at ``HTTP_LISTEN``, the aiohttp runner, the access log (paths,
  never query strings), and the two-step shutdown;
- ``webhook``: ``POST /telegram``, aiogram's ``SimpleRequestHandler`` with its background tasks
  tracked so that SIGTERM lets them finish;
- ``pushes``: ``POST``/``GET /smsc/<account>``, SMS Center's status pushes (secrets in memory,
  verified before anything else, refusals tallied and throttled), and ``push_writer``, which
  writes the verified ones to SQLite in batches;
- ``health``: ``GET /healthz`` and the ``Pulse`` it reads;
- ``metrics``: ``GET /metrics`` (``prometheus-client``, a registry per bot);
- ``instruments``: the seams that feed the metrics and the pulse (an httpx transport for SMS
  Center, an update middleware, a Bot API session middleware);
- ``healthcheck``: the Docker ``HEALTHCHECK`` command (standard library and python-dotenv).

May import: aiohttp, aiogram, prometheus_client, ``bot.store``, ``bot.fetch``, ``bot.smsc``,
``bot.text``, ``bot.chat``, ``bot.settings``. Never ``handlers/`` or ``bot.app``: the
composition root builds the server and hands it the dispatcher.
"""
