"""Run the book's pages with other seeds: every claim the prose makes must still hold.

A page is built with its own seed (``SEED = page_seed(0)``) and the comparison seeds of the quick
profile (``init_seeds = (0, 1, 2)`` …). A sentence that is true only for those draws is not a
finding. This script executes pages again with ``$DLDNA_PAGE_SEED`` set and every ``*_seeds`` size
of the profile shifted to fresh seeds, with strict claims (a contradicted claim is an error), in an
empty cache of its own (or, with ``--cache``, the build's run cache: see ``run_pages``), and reports each page's result.

It also compares the verdict of every comparison the pages word (``report.compare``: A clearly
below B, clearly above, or not decided) with the verdicts of the build (``_build/verdicts``, written by
``execute_pages.py``): a comparison that comes out clearly the *other way* round is a failure; one that
is decided in one run and undecided in the other is listed — the page should not build a conclusion
on it (more seeds, or wording that says it is not settled).

Usage: .venv/bin/python scripts/check_other_seeds.py [--set 1] [--jobs N] [PAGE.md ...]

``--set k`` chooses the seeds: page seed ``k`` and comparison seeds shifted by ``k × n`` (n = the
number of seeds), so set 1 turns (0, 1, 2) into (3, 4, 5) and set 2 into (6, 7, 8).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from execute_pages import EXPECTED_SECONDS, execute_page  # noqa: E402
from sync_notebooks import notebook_pages  # noqa: E402


def other_seed_sizes(seed_set: int, profile_name: str = "quick") -> dict[str, list[int]]:
    """The ``$DLDNA_PROFILE_SIZES`` that moves every ``*_seeds`` field of the profile to fresh seeds."""
    if not (isinstance(seed_set, int) and seed_set >= 1):
        raise ValueError(f"--set must be a positive integer, got {seed_set!r}")
    from dldna_helpers.env import PROFILES, Profile

    profile = PROFILES[profile_name]
    sizes = {}
    for f in fields(Profile):
        if f.name.endswith("_seeds"):
            seeds = getattr(profile, f.name)
            sizes[f.name] = [s + seed_set * len(seeds) for s in seeds]
    return sizes


def read_verdicts(folder: Path) -> dict[tuple, int]:
    """(page, a, b, quantity, occurrence) → sign of every comparison logged in ``folder``."""
    verdicts: dict[tuple, int] = {}
    for log in sorted(Path(folder).glob("*.jsonl")):
        seen: dict[tuple, int] = {}
        for line in log.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            key = (log.stem.replace("__", "/"), record["a"], record["b"], record["quantity"])
            seen[key] = seen.get(key, -1) + 1
            verdicts[(*key, seen[key])] = int(record["sign"])
    return verdicts


def compare_verdicts(reference: dict[tuple, int], other: dict[tuple, int]) -> tuple[list[str], list[str]]:
    """(reversals, flips) between two runs' verdicts: a reversal is clearly lower in one run and
    clearly higher in the other; a flip is decided in one and undecided in the other."""
    word = {-1: "낮음", 0: "가릴 수 없음", 1: "높음"}
    reversals, flips = [], []
    for key in sorted(set(reference) & set(other)):
        was, now = reference[key], other[key]
        if was == now:
            continue
        page, a, b, quantity, _ = key
        line = f"{page}: {a} vs {b} ({quantity}): build {word[was]}, other seeds {word[now]}"
        (reversals if was * now < 0 else flips).append(line)
    return reversals, flips


def run_pages(pages: list[Path], seed_set: int, jobs: int, timeout: int = 900,
              verdicts: Path | None = None, cache: Path | None = None) -> list[tuple[str, float, str]]:
    """Execute ``pages`` with seed set ``seed_set``; (page, seconds, error or "") per page. The
    verdicts of their comparisons go to ``verdicts`` (a folder) when given.

    ``cache`` is the run cache (default: a new empty one). Sharing the build's cache is sound: a
    run's key is everything that decides its result, this commit's code included, and a hit is
    verified before it is served. A run the seeds do not change (a synthetic surface, a fixed
    simulation) is then read back instead of computed twice; every run the seeds change has
    another key and is computed afresh."""
    sizes = other_seed_sizes(seed_set)
    cache = Path(cache) if cache is not None else Path(tempfile.mkdtemp(prefix=f"dldna-seeds-{seed_set}-"))
    os.environ.update(DLDNA_PAGE_SEED=str(seed_set), DLDNA_PROFILE_SIZES=json.dumps(sizes),
                      DLDNA_STRICT_CLAIMS="1", DLDNA_PROFILE="quick", DLDNA_CACHE_DIR=str(cache),
                      DLDNA_VERDICT_DIR=str(verdicts or cache / "verdicts"))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    print(f"[seeds] set {seed_set}: DLDNA_PAGE_SEED={seed_set}, DLDNA_PROFILE_SIZES={json.dumps(sizes)}", flush=True)
    ordered = sorted(pages, key=lambda p: -EXPECTED_SECONDS.get(p.stem, 0))
    results = []
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(ordered)))) as pool:
        futures = [pool.submit(execute_page, page, timeout) for page in ordered]
        for future in as_completed(futures):
            path, nb, seconds, error = future.result()
            name = path.relative_to(ROOT).as_posix()
            results.append((name, seconds, "" if nb is not None else error))
            print(f"[seeds] {name}: {'ok' if nb is not None else 'FAILED'} in {seconds:.0f} s"
                  + (f"\n{error}" if nb is None else ""), flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", type=Path, help="MyST pages (default: every notebook page)")
    parser.add_argument("--set", dest="seed_set", type=int, default=1, help="which other seeds (1, 2, …)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="pages executed at once")
    parser.add_argument("--cache", type=Path, default=None,
                        help="run cache to share (e.g. the build's $DLDNA_CACHE_DIR); default: a new empty one")
    args = parser.parse_args()
    pages = [p.resolve() for p in args.pages] or notebook_pages()
    missing = [str(p) for p in pages if not p.exists()]
    if missing:
        parser.error(f"no such page: {', '.join(missing)}")
    start = time.perf_counter()
    verdicts = Path(tempfile.mkdtemp(prefix="dldna-verdicts-"))
    results = run_pages(pages, args.seed_set, args.jobs, verdicts=verdicts, cache=args.cache)
    failed = [name for name, _, error in results if error]
    print(f"[seeds] {len(results) - len(failed)} of {len(results)} pages hold their claims with seed set "
          f"{args.seed_set} ({time.perf_counter() - start:.0f} s)", flush=True)
    reference = ROOT / "_build" / "verdicts"
    reversals: list[str] = []
    if reference.exists():
        reversals, flips = compare_verdicts(read_verdicts(reference), read_verdicts(verdicts))
        for line in reversals:
            print(f"[seeds] REVERSED {line}", flush=True)
        for line in flips:
            print(f"[seeds] flipped  {line}", flush=True)
        print(f"[seeds] verdicts vs the build: {len(reversals)} reversed, {len(flips)} decided in one run only",
              flush=True)
    else:
        print(f"[seeds] no build verdicts in {reference} (run scripts/build_book.sh first) to compare with")
    return 1 if failed or reversals else 0


if __name__ == "__main__":
    sys.exit(main())
