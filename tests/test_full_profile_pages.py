"""Every page also runs the code paths of the `full` profile, the one GPU readers get.

The `full` sizes take hours on a CPU, so the pages run here with the `full` profile and
tiny sizes ($DLDNA_PROFILE_SIZES): several seeds (mean ± std tables), the whole-data branches,
the default-size CIFAR models and all the optimizers a page uses in `full`. A cell that only
breaks in `full` fails here instead of on a reader's Colab GPU.
"""
import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.relative_to(ROOT) for p in (*ROOT.glob("book/*.ipynb"), *ROOT.glob("exercises/*.ipynb")))

TINY_FULL = {
    "fmnist_train": 512, "fmnist_test": 256, "pipeline_epochs": 1,
    "init_epochs": 1, "init_seeds": [0, 1], "optim_epochs": 1, "optim_seeds": [0, 1],
    "sweep_epochs": 1, "sweep_lrs": 3,
    "cifar_train": 256, "cifar_test": 128, "cifar_epochs": 1,
    "landscape_epochs": 3, "landscape_eval_samples": 200, "surface_points": 21, "hessian_samples": 100,
    "skip_depth": 4, "skip_epochs": 1, "dynamics_epochs": 3,
    "sharpness_train": 256, "sharpness_steps": 40, "exercise_epochs": 1,
}


@pytest.fixture(scope="module")
def full_profile_env(tmp_path_factory):
    """The kernels nbclient starts inherit this process's environment."""
    patch = pytest.MonkeyPatch()
    patch.setenv("DLDNA_PROFILE", "full")
    patch.setenv("DLDNA_PROFILE_SIZES", json.dumps(TINY_FULL))
    patch.setenv("DLDNA_ALLOW_STANDIN", "1")     # CIFAR-100 cannot be downloaded offline
    patch.setenv("DLDNA_CACHE_DIR", str(tmp_path_factory.mktemp("full_profile_cache")))
    yield
    patch.undo()


def test_every_page_is_covered():
    assert {str(p) for p in PAGES} >= {"book/optimizers.ipynb", "book/initialization.ipynb",
                                        "exercises/advanced.ipynb"}


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_page_runs_in_the_full_profile(page, full_profile_env):
    path = ROOT / page
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    provenance = [o.get("text", "") for c in nb.cells if c.cell_type == "code"
                  for o in c.get("outputs", []) if "실행 정보" in o.get("text", "")]
    if provenance:   # chapter pages print where their numbers come from
        assert "프로파일: full (크기 변경:" in provenance[0]
