"""Shared test set-up: a headless matplotlib backend and an isolated cache per test session."""
from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """Point the helper package's cache at a fresh folder (data files are re-read from source)."""
    monkeypatch.setenv("DLDNA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def no_standin(monkeypatch):
    monkeypatch.delenv("DLDNA_ALLOW_STANDIN", raising=False)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors: extra intra-op threads only add contention on a shared machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


os.environ.setdefault("DLDNA_PROFILE", "quick")
# what the build and CI do: a contradicted claim raises (tests of a reader's run unset it)
os.environ.setdefault("DLDNA_STRICT_CLAIMS", "1")
