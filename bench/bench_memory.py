"""Peak memory of every page in the quick profile, with full-size CIFAR-100-shaped data.

mybinder.org gives a reader about 2 GB. Each page (book/*.md, exercises/*.md, in _toc.yml
order) is executed with nbclient in its own kernel, on an empty cache, and the kernel
reports its own peak resident set size (``VmHWM`` in ``/proc/self/status``, the kernel
process's high-water mark, so no sampling can miss a peak; Linux, as on Binder) in a cell
appended to the page.

CIFAR-100 cannot be downloaded here, so a torchvision-layout ``cifar-100-python`` folder
with random uint8 images of the real sizes (50,000 training and 10,000 test images, 100
classes) is written once to a temporary cache; ``load_cifar100`` reads it exactly as it
reads the real download (torchvision's MD5 check of the files is switched off in the
kernels of the pages that load CIFAR, since random data cannot match the real checksums).
The stand-in is NOT permitted, so a page that fell back to it would fail.

Prints a table of peak MB per page and, last, ``max peak / 1500 MB`` (target <= 1).
Usage: .venv/bin/python bench/bench_memory.py [PAGE.md ...]   (about 5 minutes of CPU for all pages)
"""
from __future__ import annotations

import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MB = 1500
CIFAR_SPLITS = {"train": 50_000, "test": 10_000}
PEAK_MARK = "PEAK_RSS_KB="

NO_MD5_CHECK = (
    "# bench_memory: the random CIFAR-100 files cannot match torchvision's MD5 sums\n"
    "import torchvision.datasets.cifar as _cifar\n"
    "_cifar.check_integrity = lambda *args, **kwargs: True\n"
)
# VmHWM, the peak resident set of this process's own memory map: unlike getrusage's ru_maxrss it
# does not inherit the peak of the process that forked the kernel (Linux keeps that across exec).
REPORT_PEAK = (
    "from pathlib import Path\n"
    "_hwm = [l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM:')]\n"
    f"print('{PEAK_MARK}' + _hwm[0].split()[1])\n"
)


def toc_pages() -> list[Path]:
    """The notebook pages in _toc.yml order (the root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [ch["file"] for part in toc.get("parts", []) for ch in part["chapters"]]
    pages = [ROOT / f"{f}.md" for f in files]
    return [p for p in pages if p.exists() and "```{code-cell}" in p.read_text(encoding="utf-8")]


def write_fake_cifar(cache: Path) -> Path:
    """``cache/data/torchvision/cifar-100-python`` with random images of the real sizes."""
    folder = cache / "data" / "torchvision" / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split, n in CIFAR_SPLITS.items():
        entry = {"data": rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8),
                 "fine_labels": rng.integers(0, 100, n).tolist(),
                 "coarse_labels": rng.integers(0, 20, n).tolist()}
        with open(folder / split, "wb") as fh:
            pickle.dump(entry, fh, protocol=4)
    with open(folder / "meta", "wb") as fh:
        pickle.dump({"fine_label_names": [f"class_{i}" for i in range(100)],
                     "coarse_label_names": [f"super_{i}" for i in range(20)]}, fh, protocol=4)
    return folder


def run_page(page: Path) -> tuple[float, float, bool]:
    """Execute ``page`` in a fresh kernel; return (peak MB, seconds, whether it read CIFAR)."""
    nb = jupytext.read(page)
    source = page.read_text(encoding="utf-8")
    reads_cifar = "cifar100" in source
    if reads_cifar:
        nb.cells.insert(0, nbformat.v4.new_code_cell(NO_MD5_CHECK))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_PEAK))
    start = time.perf_counter()
    NotebookClient(nb, timeout=1800, kernel_name="python3",
                   resources={"metadata": {"path": str(page.parent)}}).execute()
    seconds = time.perf_counter() - start
    texts = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    if reads_cifar and any("대체 합성 데이터" in t for t in texts):
        raise RuntimeError(f"{page} used the CIFAR stand-in instead of the full-size files")
    peak = [t for t in texts if PEAK_MARK in t][-1]
    return int(peak.split(PEAK_MARK)[1].split()[0]) / 1024, seconds, reads_cifar


def main(argv: list[str]) -> None:
    pages = [ROOT / a for a in argv] if argv else toc_pages()
    with tempfile.TemporaryDirectory(prefix="dldna_bench_memory_") as tmp:
        cache = Path(tmp) / "cache"
        write_fake_cifar(cache)
        os.environ.update(DLDNA_PROFILE="quick", DLDNA_CACHE_DIR=str(cache), OMP_WAIT_POLICY="PASSIVE",
                          PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        os.environ.pop("DLDNA_ALLOW_STANDIN", None)  # full-size files or a failure, never the stand-in
        os.environ.pop("DLDNA_PROFILE_SIZES", None)
        print(f"quick profile, empty cache, CIFAR-100-shaped files: {CIFAR_SPLITS['train']:,} + "
              f"{CIFAR_SPLITS['test']:,} images")
        print(f"{'page':32s} {'peak MB':>8s} {'time s':>7s}")
        peaks = {}
        for page in pages:
            peak, seconds, cifar = run_page(page)
            name = str(page.relative_to(ROOT).with_suffix(""))
            peaks[name] = peak
            print(f"{name + (' (CIFAR)' if cifar else ''):32s} {peak:8.0f} {seconds:7.0f}", flush=True)
    worst = max(peaks, key=peaks.get)
    print(f"largest: {worst}, {peaks[worst]:.0f} MB")
    print(f"SUMMARY memory: max peak / {BUDGET_MB} MB = {peaks[worst] / BUDGET_MB:.2f} (target <= 1)")


if __name__ == "__main__":
    main(sys.argv[1:])
