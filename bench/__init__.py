"""Benchmarks of the shared fetch layer and the bot: ``python -m bench``.

Not part of the test suite. Each figure is measured beside its baseline in the same run:

- ``bench.quota`` — an hour of a support team in simulated time against the simulated SMS
  Center, the bot beside a naive client (one request per question, no cache);
- ``bench.correct`` — correct ``/last`` answers on realistic accounts (2 000 and 30 000 SMS a
  day, ``bench.accounts``) over a team's hour of questions about numbers of every age
  (``bench.questions``), judged against the simulator's truth (``bench.judge``), the bot
  (observed through ``bench.observe``) beside a naive and a batched-only client
  (``bench.clients``);
- ``bench.overhead`` — time per ``/last`` update through the real Dispatcher beside a bare
  aiogram echo handler, both on the fake Telegram server over loopback;
- ``bench.memory`` — peak RSS of a bot process (``bench.probe``) with users in the database and
  a full cache, at 1×, 10× and 100× the users and numbers.
"""
