"""Wall time of the book build and of the other-seeds check, in parallel vs one at a time.

Both are run side by side on this machine from the same state: the build from an empty
training cache each time (so both variants train everything), the other-seeds check
(scripts/check_other_seeds.py, seed set 1) sharing the cache that build left, as CI does. Prints
the times and, last, the ratios parallel/serial (target for the build: at most 0.65 on 2 cores).

Usage: .venv/bin/python bench/bench_parallel.py [--jobs N] [--skip-tests]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-tests", action="store_true", help="time the book build only")
    args = parser.parse_args()
    base = dict(os.environ, DLDNA_PROFILE="quick", DLDNA_ALLOW_STANDIN="1", DLDNA_NO_APT="1",
                OMP_WAIT_POLICY="PASSIVE")
    build: dict[int, float] = {}
    tests: dict[int, float] = {}
    for jobs in (1, args.jobs):
        with tempfile.TemporaryDirectory(prefix="dldna-bench-cache-") as cache:
            env = dict(base, DLDNA_JOBS=str(jobs), DLDNA_CACHE_DIR=cache)
            build[jobs] = timed(["bash", "scripts/build_book.sh", "--all"], env)
            print(f"book build, {jobs} worker(s), empty cache: {build[jobs]:.0f} s", flush=True)
            if not args.skip_tests:
                seeds = [sys.executable, "scripts/check_other_seeds.py", "--set", "1", "--jobs", str(jobs),
                         "--cache", cache]
                tests[jobs] = timed(seeds, env)
                print(f"other-seeds check, {jobs} worker(s), the build's cache: {tests[jobs]:.0f} s", flush=True)
    summary = f"book build parallel/serial = {build[args.jobs] / build[1]:.2f} ({args.jobs} workers)"
    if tests:
        summary += f"; other-seeds check parallel/serial = {tests[args.jobs] / tests[1]:.2f}"
    print(summary)


if __name__ == "__main__":
    main()
