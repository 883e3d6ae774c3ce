"""Every launch-target notebook runs alone in a Colab-like environment.

What a Colab reader has: a kernel with torch (and torchvision) preinstalled, ipywidgets
7.7.1, and whatever the notebook's set-up cell installs with pip: the package from the
repository, non-editable, with the dependencies pyproject.toml declares. No
requirements.txt, no myst-nb, no repository files beside the notebook.

The environment is built once per test session: a new virtual environment that sees only
the torch and torchvision distributions of the project's environment (linked in through a
``.pth`` file, with exactly the distributions they require), then ``ipykernel`` and
``ipywidgets==7.7.1`` as Colab has them, then the package installed by the set-up cell
itself (with ``google.colab`` faked and the repository URL pointing at a snapshot of this
checkout). Each notebook is copied alone into an empty folder and executed there with an
empty cache. Needs the package registry (as CI has); takes a few minutes.

The notebooks run there in the `full` profile, the one a Colab GPU runtime picks, with tiny
sizes ($DLDNA_PROFILE_SIZES): several seeds (mean ± std tables), the whole-data branches, the
CIFAR models (narrowed and shallower) and all the optimizers a page uses in `full`. So one execution checks
both that a notebook runs alone in a reader's environment and that no cell breaks only in
`full` (instead of on a reader's GPU). The quick profile, with its real sizes, is executed by
the book build and, with other seeds, by tests/test_other_seeds.py.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_notebooks  # noqa: E402

from dldna_helpers.widgets import WIDGET_VIEW  # noqa: E402

pytestmark = pytest.mark.slow
KERNEL = "colab-like"
COLAB_IPYWIDGETS = "7.7.1"
LAUNCH_NOTEBOOKS = [p.with_suffix(".ipynb") for p in sync_notebooks.notebook_pages()]
# The full profile with every size cut down: minutes on a CPU instead of hours on a GPU.
TINY_FULL = {
    "fmnist_train": 512, "fmnist_test": 256, "pipeline_epochs": 1, "pipeline_seeds": [0, 1],
    "init_epochs": 1, "init_seeds": [0, 1], "init_depth": 3, "init_deep_seeds": [0, 1],
    "init_deep_epochs": 1, "optim_epochs": 1, "optim_seeds": [0, 1],
    "sweep_lrs": 1,
    "cifar_train": 256, "cifar_test": 128, "cifar_batch": 64, "cifar_epochs": 1,
    "cifar_cnn_width": 8, "cifar_vit_dim": 32, "cifar_vit_depth": 1,
    "landscape_epochs": 3, "landscape_eval_samples": 200, "surface_points": 21, "hessian_samples": 100,
    "skip_depth": 4, "skip_epochs": 1, "landscape_seeds": [0, 1, 2],
    "dynamics_epochs": 3, "dynamics_seeds": [0, 1],
    "sharpness_train": 256, "sharpness_steps": 40, "exercise_epochs": 1,
}


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def _requirement_closure(names: list[str]) -> list[importlib.metadata.Distribution]:
    """The distributions ``names`` need, recursively (markers evaluated, extras ignored)."""
    from packaging.requirements import Requirement

    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional requirement not installed here
        seen[name] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(seen.values())


def _link_preinstalled(layer: Path, names: list[str]) -> list[str]:
    """Symlink the files of ``names`` and what they require into ``layer``; their names."""
    layer.mkdir(parents=True)
    linked = []
    for dist in _requirement_closure(names):
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        base = Path(dist.locate_file(""))
        for top in tops:
            if top.endswith(".pth") or top == "__pycache__" or not (base / top).exists():
                continue
            if not (layer / top).exists():
                (layer / top).symlink_to(base / top)
        linked.append(dist.metadata["Name"])
    return linked


def _snapshot_repository(dest: Path) -> str:
    """A git repository holding this checkout's package as it is now; its pip URL."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "dldna_helpers", dest / "dldna_helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git = ["git", "-C", str(dest), "-c", "user.name=ci", "-c", "user.email=ci@localhost"]
    _run([*git, "init", "-q"])
    _run([*git, "add", "-A"])
    _run([*git, "commit", "-q", "-m", "snapshot"])
    return f"file://{dest}"


@pytest.fixture(scope="session")
def colab_like(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("colab_like")
    base_python = getattr(sys, "_base_executable", sys.executable)
    _run([base_python, "-m", "venv", str(root / "venv")])
    python = root / "venv" / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    linked = _link_preinstalled(root / "preinstalled", ["torch", "torchvision"])
    (site / "colab_preinstalled.pth").write_text(str(root / "preinstalled") + "\n")
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # Colab's kernel: a current pip (23.2 refuses "name @ git+file://" URLs), ipykernel, ipywidgets 7.7.1
    _run([*pip, "--upgrade", "pip"], timeout=600)
    _run([*pip, "ipykernel", f"ipywidgets=={COLAB_IPYWIDGETS}"], timeout=900)
    # the package, installed by the notebooks' own set-up cell, as in Colab
    url = _snapshot_repository(root / "repository")
    cell = sync_notebooks.setup_cell_source(url)
    _run([str(python), "-c", "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n"
          + cell], timeout=1500, cwd=root)
    _run([str(python), "-m", "ipykernel", "install", "--prefix", str(root / "jupyter"), "--name", KERNEL],
         timeout=120)
    return {"root": root, "python": python, "jupyter": root / "jupyter" / "share" / "jupyter",
            "linked": linked}


def test_the_environment_is_colab_like(colab_like):
    python = str(colab_like["python"])
    probe = ("import importlib.metadata as m, json, dldna_helpers, ipywidgets, torch\n"
             "names = {d.metadata['Name'].lower() for d in m.distributions()}\n"
             "print(json.dumps({'package': dldna_helpers.__file__, 'ipywidgets': ipywidgets.__version__,"
             " 'myst_nb': 'myst-nb' in names, 'sphinx': 'sphinx' in names, 'torch': torch.__file__}))")
    facts = json.loads(_run([python, "-c", probe], cwd=colab_like["root"]).stdout)
    assert "site-packages" in facts["package"] and str(ROOT) not in facts["package"]  # non-editable
    assert facts["ipywidgets"] == COLAB_IPYWIDGETS  # the package did not upgrade Colab's widgets
    assert not facts["myst_nb"] and not facts["sphinx"]
    assert "preinstalled" in facts["torch"]
    assert {"torch", "torchvision"} <= {n.lower() for n in colab_like["linked"]}


def _execute_alone(notebook: Path, env: dict[str, str], workdir: Path) -> tuple[str, str]:
    """Copy ``notebook`` alone into ``workdir`` and execute it there with the Colab-like kernel."""
    workdir.mkdir()
    target = workdir / notebook.name
    shutil.copy2(notebook, target)
    script = (
        "import sys, nbformat\nfrom nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        f"NotebookClient(nb, timeout=900, kernel_name={KERNEL!r}, "
        "resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "nbformat.write(nb, sys.argv[1])\n"
    )
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", script, str(target), str(workdir)], env=env, cwd=workdir,
                         capture_output=True, text=True, timeout=1800)
    print(f"[clean] {notebook.name}: {time.perf_counter() - start:.0f} s", flush=True)
    return notebook.name, "" if run.returncode == 0 else (run.stdout[-2000:] + run.stderr[-4000:])


def _kernel_env(colab_like, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env.pop("DLDNA_STRICT_CLAIMS", None)   # a reader's run: a contradicted claim prints a note, never stops
    env.update(JUPYTER_PATH=str(colab_like["jupyter"]), DLDNA_PROFILE="full", DLDNA_CACHE_DIR=str(cache),
               DLDNA_PROFILE_SIZES=json.dumps(TINY_FULL),
               DLDNA_ALLOW_STANDIN=os.environ.get("DLDNA_ALLOW_STANDIN", "1"), OMP_WAIT_POLICY="PASSIVE")
    return env


def test_every_page_is_a_launch_notebook():
    assert {str(p.relative_to(ROOT)) for p in LAUNCH_NOTEBOOKS} >= {
        "book/optimizers.ipynb", "book/initialization.ipynb", "exercises/advanced.ipynb"}


def test_every_launch_notebook_runs_alone_in_a_clean_environment(colab_like):
    runs = colab_like["root"] / "runs"
    runs.mkdir()
    env = _kernel_env(colab_like, colab_like["root"] / "reader_cache")
    workers = max(1, min(2, os.cpu_count() or 1))  # one torch thread per page: two pages at once
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda nb: _execute_alone(nb, env, runs / nb.stem), LAUNCH_NOTEBOOKS))
    failed = {name: error for name, error in results if error}
    assert failed == {}, "\n\n".join(f"--- {name}\n{error}" for name, error in failed.items())
    for notebook in LAUNCH_NOTEBOOKS:
        executed = nbformat.read(runs / notebook.stem / notebook.name, as_version=4)
        texts = [o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not any("object at 0x" in t for t in texts), f"{notebook.name} printed a bare object repr"
        provenance = [t for t in texts if "실행 정보" in t]
        if provenance:   # chapter pages print where their numbers come from: the full profile, cut down
            assert "프로파일: full (크기 변경:" in provenance[0], (notebook.name, provenance[0])


WIDGET_PROBE = [
    "import ipywidgets\nprint(ipywidgets.__version__)",
    "from dldna_helpers.widgets import momentum_checker\nmomentum_checker(live=True)",
    "import matplotlib.pyplot as plt\nfrom dldna_helpers.widgets import interactive_figure\n"
    "def draw(a):\n    fig, ax = plt.subplots(figsize=(2, 2))\n    ax.plot([0, a])\n    return fig\n"
    "interactive_figure(draw, {'a': [1, 2]}, live=True)",
]


@pytest.mark.parametrize("where", ["colab-like (ipywidgets 7.7.1)", "project (ipywidgets 8)"])
def test_live_checkers_render_with_ipywidgets_7_and_8(where, colab_like, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in WIDGET_PROBE])
    colab = where.startswith("colab")
    env_backup = dict(os.environ)
    try:
        if colab:
            os.environ.update(_kernel_env(colab_like, tmp_path / "cache"))
        NotebookClient(nb, timeout=300, kernel_name=KERNEL if colab else "python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    version = nb.cells[0].outputs[0]["text"].strip()
    assert version.startswith("7.7") if colab else version.startswith("8.")
    for cell in nb.cells[1:]:
        bundles = [o for o in cell.outputs if o.get("output_type") in ("execute_result", "display_data")]
        assert bundles, cell.outputs
        data = bundles[-1]["data"]
        assert WIDGET_VIEW in data and "text/html" in data, sorted(data)
        assert "object at 0x" not in data.get("text/plain", "")
        assert not [o for o in cell.outputs if o.get("output_type") == "error" or o.get("name") == "stderr"]
