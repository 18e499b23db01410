"""``python -m bench``: every figure of the benchmarks beside its baseline, as a table and as JSON.

    python -m bench                  # quota at 1×/2×/5×, correct answers on realistic accounts
                                     # (2 seeds), overhead and memory at 1×/10×/100×
    python -m bench --quick          # a smaller run: 1 000 updates, scales 1× and 10×; correct
                                     # answers at 1× on one seed
    python -m bench --only quota --seeds 20 --warm-burst 1,5   # over 20 seeds, other buckets
    python -m bench --only correct --correct-seeds 5           # correct answers over 5 seeds
    python -m bench --only correct --pushes    # the bot with status pushes beside it too

The table goes to stdout, the JSON to ``--json`` (default ``bench/results.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import correct, growth, quota, report
from bench.accounts import SIZES
from bench.clients import CLIENTS, WITHOUT_PUSHES
from bench.workload import build_workload

DEFAULT_JSON = Path(__file__).resolve().parent / "results.json"


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 000 updates, scales 1× and 10×")
    parser.add_argument("--only", choices=("quota", "correct", "growth"), help="run one part only")
    parser.add_argument(
        "--pushes",
        action="store_true",
        help="correct answers: the bot with status pushes too (in-progress pushed, and not)",
    )
    parser.add_argument(
        "--loads", type=_numbers, default=[1, 2, 5], help="quota and correct loads: 1,2,5"
    )
    parser.add_argument(
        "--correct-seeds",
        type=int,
        help="correct answers: seeds 1..N (default 2; 1 with --quick)",
    )
    parser.add_argument(
        "--sizes",
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
        default=["small", "busy"],
        help="correct answers: account sizes (small,busy)",
    )
    parser.add_argument("--scales", type=_numbers, help="population scales (default 1,10,100)")
    parser.add_argument("--updates", type=int, help="/last updates per side (default 5000)")
    parser.add_argument("--seed", type=int, default=6, help="seed of every random choice")
    parser.add_argument("--seeds", type=int, default=1, help="quota: also run the bot on N seeds")
    parser.add_argument(
        "--warm-burst",
        type=_numbers,
        default=[],
        help="quota: also run the bot with these bucket sizes (e.g. 5,10)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile summary")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    args = parser.parse_args(argv)
    if args.scales is None:
        args.scales = [1, 10] if args.quick else [1, 10, 100]
    if args.updates is None:
        args.updates = 1000 if args.quick else 5000
    if args.correct_seeds is None:
        args.correct_seeds = 1 if args.quick else 2
    unknown = set(args.sizes) - set(SIZES)
    if unknown:
        parser.error(f"unknown sizes: {', '.join(sorted(unknown))}")
    return args


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {
        "machine": report.machine(),
        "command": "python -m bench " + " ".join(sys.argv[1:]),
    }
    began = time.perf_counter()
    quota_results: list[quota.QuotaResult] = []
    spread: list[quota.QuotaResult] = []
    if args.only in (None, "quota"):
        for load in args.loads:
            pacings = [None, *(quota.Pacing.saving(n) for n in args.warm_burst)]
            workload = build_workload(load, args.seed)
            for pacing in pacings:
                quota_results.append(await quota.run_bot(workload, pacing=pacing))
            quota_results.append(await quota.run_bot(workload, pacing=quota.PREVIOUS_PACING))
            quota_results.append(await quota.run_naive(workload))
            if args.seeds > 1:
                for seed in range(args.seed, args.seed + args.seeds):
                    for pacing in pacings:
                        spread.append(
                            await quota.run_bot(build_workload(load, seed), pacing=pacing)
                        )
        _print("Quota economy: one hour in simulated time against the simulated SMS Center")
        _print(*report.quota_lines(quota_results))
        if spread:
            _print("", "The bot over several seeds:", *report.robustness_lines(spread))
        _print("")
    correct_results: list[correct.CorrectResult] = []
    pooled: list[correct.Pooled] = []
    if args.only in (None, "correct"):
        loads = [1] if args.quick and args.only is None else args.loads
        _print("Correct answers on realistic accounts (one hour, simulated time)")
        correct_results = await correct.run_all(
            sizes=args.sizes,
            loads=loads,
            seeds=range(1, args.correct_seeds + 1),
            clients=tuple(CLIENTS) if args.pushes else WITHOUT_PUSHES,
            progress=_progress,
        )
        pooled = correct.pool(correct_results)
        _print(*report.correct_lines(pooled), "")
        _print("Correct final answers by the age of the number's newest message")
        _print(*report.correct_kind_lines(pooled), "")
        _print("/failed 1 (the bot): the hour's true failures reported, and status.php")
        _print(*report.failed_lines(pooled), "")
    scales: list[growth.ScaleResult] = []
    if args.only in (None, "growth"):
        with tempfile.TemporaryDirectory(prefix="bench-") as folder:
            for n, scale in enumerate(args.scales):
                profile = n == 0 and not args.no_profile and not args.quick
                scales.append(
                    await growth.measure(
                        scale, Path(folder), updates=args.updates, seed=args.seed, profile=profile
                    )
                )
        _print(f"Overhead: {args.updates} /last updates per side, the bot beside bare handlers")
        _print(*report.overhead_lines(scales), "")
        _print("Memory: resident set of the bot process (alone), beside a bare echo bot's")
        _print(*report.memory_lines(scales), "")
        for result in scales:
            if result.overhead.profile:
                _print(*report.profile_lines(result), "")
    found = report.targets(quota_results, scales) + report.correct_targets(pooled)
    _print("Targets:", *report.target_lines(found))
    out["quota"] = [r.as_json() for r in quota_results]
    out["quota_seeds"] = [r.as_json() for r in spread]
    out["workloads"] = {str(load): build_workload(load, args.seed).counts() for load in args.loads}
    out["correct"] = [r.as_json() for r in correct_results]
    out["scales"] = [r.as_json() for r in scales]
    out["targets"] = found
    out["seconds"] = round(time.perf_counter() - began, 1)
    _print(f"({out['seconds']:.0f} s)")
    return out


def _progress(result: correct.CorrectResult) -> None:
    share = result.correct / result.lasts if result.lasts else 0.0
    print(
        f"  {result.size} {result.load}× seed {result.seed} {result.client}: {share:.0%} correct,"
        f" {result.upstream_requests} requests ({result.seconds:.0f} s)",
        file=sys.stderr,
        flush=True,
    )


def _print(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmarks, print the table, write the JSON."""
    args = _arguments(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    results = asyncio.run(_run(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()
