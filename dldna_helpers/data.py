"""Datasets of the chapter, decoded once into tensors kept in memory.

FashionMNIST comes from (1) the local cache, (2) Debian's ``dataset-fashion-mnist``
package, (3) torchvision's download. CIFAR-100 comes from torchvision's download; an
offline stand-in of the same shape is used only when ``DLDNA_ALLOW_STANDIN=1`` permits it,
and the returned data says so (``is_standin``), so a page can say it visibly.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from .env import cache_dir
from .storage import save_atomic

STANDIN_ENV = "DLDNA_ALLOW_STANDIN"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

FASHION_MNIST_CLASSES_KO = (
    "티셔츠/탑", "바지", "풀오버", "드레스", "코트", "샌들", "셔츠", "스니커즈", "가방", "앵클부츠",
)
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)


class DataUnavailableError(RuntimeError):
    """The data set is not on this machine and cannot be fetched; the message says how to get it."""


@dataclass
class TensorData:
    """A split held in memory: normalized images ``x`` (N, C, H, W), labels ``y`` (N,)."""

    x: torch.Tensor
    y: torch.Tensor
    classes: tuple[str, ...]
    source: str
    is_standin: bool = False

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, n: int | None, seed: int = 0) -> "TensorData":
        """A seeded random subset of ``n`` samples (``None``: everything)."""
        if n is None or n >= len(self):
            return self
        if n <= 0:
            raise ValueError(f"subset size must be positive or None, got {n}")
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        return TensorData(self.x[idx], self.y[idx], self.classes, self.source, self.is_standin)


# ------------------------------------------------------------------ FashionMNIST
def _read_idx(path: Path) -> np.ndarray:
    """Decode an IDX file (gzip or raw), the format MNIST-like data sets ship in."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (folder / name).exists():
            return folder / name
    return None


def _fashion_from_folder(folder: Path, train: bool) -> tuple[np.ndarray, np.ndarray] | None:
    prefix = "train" if train else "t10k"
    images = _find_idx(folder, f"{prefix}-images-idx3-ubyte")
    labels = _find_idx(folder, f"{prefix}-labels-idx1-ubyte")
    if images is None or labels is None:
        return None
    return _read_idx(images), _read_idx(labels)


def _fashion_from_torchvision(root: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    from torchvision.datasets import FashionMNIST

    try:
        ds = FashionMNIST(str(root), train=train, download=True)
    except Exception as exc:  # network errors come in many types
        raise DataUnavailableError(
            "FashionMNIST을 찾을 수 없고 내려받지도 못했습니다 (FashionMNIST is not on this machine "
            f"and the download failed: {exc}). Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist`; "
            f"elsewhere connect to the internet once, or put the four IDX files in {root}."
        ) from exc
    return ds.data.numpy(), ds.targets.numpy()


def load_fashion_mnist(train: bool = True, subset: int | None = None, seed: int = 0) -> TensorData:
    """FashionMNIST as normalized float tensors (N, 1, 28, 28) with Korean class names."""
    split = "train" if train else "test"
    cached = cache_dir("data") / f"fashion_mnist_{split}.pt"
    if cached.exists():
        blob = torch.load(cached, weights_only=True)
        images, labels, source = blob["images"], blob["labels"], blob["source"]
    else:
        found = _fashion_from_folder(DEBIAN_FASHION_MNIST, train)
        if found is not None:
            source = "FashionMNIST (Debian dataset-fashion-mnist)"
        else:
            found = _fashion_from_torchvision(cache_dir("data", "torchvision"), train)
            source = "FashionMNIST (torchvision 다운로드)"
        images, labels = (torch.from_numpy(np.array(a)) for a in found)
        save_atomic({"images": images, "labels": labels.long(), "source": source}, cached)
    x = (images.float().div_(255.0).unsqueeze(1) - FASHION_MNIST_MEAN) / FASHION_MNIST_STD
    data = TensorData(x, labels.long(), FASHION_MNIST_CLASSES_KO, source)
    return data.subset(subset, seed)


# ------------------------------------------------------------------ CIFAR-100
def standin_allowed() -> bool:
    return os.environ.get(STANDIN_ENV, "").strip().lower() in {"1", "true", "yes"}


def _cifar_standin(train: bool, n: int, seed: int = 1234) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic 32x32 RGB images in 100 classes: a smooth class template plus noise.

    Learnable but not CIFAR: it only keeps the shape so that the code paths run offline.
    """
    gen = torch.Generator().manual_seed(seed)
    templates = torch.nn.functional.interpolate(torch.rand(100, 3, 8, 8, generator=gen), size=32, mode="bilinear")
    gen_split = torch.Generator().manual_seed(seed + (1 if train else 2))
    labels = torch.randint(0, 100, (n,), generator=gen_split)
    noise = 0.25 * torch.randn(n, 3, 32, 32, generator=gen_split)
    images = (templates[labels] + noise).clamp_(0, 1)
    return (images * 255).round().to(torch.uint8), labels


def load_cifar100(train: bool = True, subset: int | None = None, seed: int = 0) -> TensorData:
    """CIFAR-100 as normalized float tensors (N, 3, 32, 32); a visible stand-in only if permitted."""
    from torchvision.datasets import CIFAR100

    root = cache_dir("data", "torchvision")
    try:
        ds = CIFAR100(str(root), train=train, download=True)
        images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
        labels = torch.tensor(ds.targets, dtype=torch.long)
        classes, source, standin = tuple(ds.classes), "CIFAR-100 (torchvision)", False
    except Exception as exc:
        if not standin_allowed():
            raise DataUnavailableError(
                "CIFAR-100을 내려받지 못했습니다 (could not download CIFAR-100: "
                f"{exc}). Connect to the internet once (torchvision caches it in {root}), or, only for an "
                f"offline test run, set {STANDIN_ENV}=1 to use a synthetic stand-in that is NOT real data."
            ) from exc
        n = 50000 if train else 10000
        if subset is not None:
            n = min(n, subset)
        images, labels = _cifar_standin(train, n)
        classes = tuple(f"class_{i}" for i in range(100))
        source, standin = "CIFAR-100 대체 합성 데이터 (실제 CIFAR-100 아님)", True
    mean = torch.tensor(CIFAR100_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR100_STD).view(1, 3, 1, 1)
    x = (images.float() / 255.0 - mean) / std
    return TensorData(x, labels, classes, source, standin).subset(subset, seed)


# ------------------------------------------------------------------ loaders
def random_crop_flip(x: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """Batch augmentation for the training split: random shifts (reflect-padded crop) and flips."""
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (padding,) * 4, mode="reflect")
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    out = _crop(padded, dy, dx, h, w)
    flip = torch.rand(n, generator=generator) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def _crop(padded: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, h: int, w: int) -> torch.Tensor:
    n, c, hp, wp = padded.shape
    rows = dy.view(n, 1, 1) + torch.arange(h).view(1, h, 1)          # (n, h, 1)
    cols = dx.view(n, 1, 1) + torch.arange(w).view(1, 1, w)          # (n, 1, w)
    flat = (rows * wp + cols).view(n, 1, h * w).expand(n, c, h * w)  # index into (hp*wp)
    return padded.reshape(n, c, hp * wp).gather(2, flat).view(n, c, h, w)


class TensorLoader:
    """Mini-batches from in-memory tensors: shuffled with its own seeded generator each epoch.

    Iterating costs only an index permutation and slicing, so data loading never dominates
    a CPU epoch. ``augment`` (train split only) transforms each batch.
    """

    def __init__(
        self,
        data: TensorData,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
        drop_last: bool = False,
    ) -> None:
        if len(data) == 0:
            raise ValueError("cannot build a loader over an empty data set (0 samples)")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if drop_last and batch_size > len(data):
            raise ValueError(f"batch_size={batch_size} > {len(data)} samples with drop_last=True leaves no batch")
        self.data, self.batch_size, self.shuffle = data, batch_size, shuffle
        self.augment, self.drop_last = augment, drop_last
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.data)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.data)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for b in range(len(self)):
            sl = slice(b * self.batch_size, min(n, (b + 1) * self.batch_size))
            if order is None:
                xb, yb = self.data.x[sl], self.data.y[sl]
            else:
                idx = order[sl]
                xb, yb = self.data.x[idx], self.data.y[idx]
            if self.augment is not None:
                xb = self.augment(xb, self.generator)
            yield xb, yb


def fashion_mnist_loaders(
    train_subset: int | None, test_subset: int | None, batch_size: int, seed: int = 0
) -> tuple[TensorLoader, TensorLoader]:
    """Train (shuffled, seeded) and test loaders over in-memory FashionMNIST."""
    train = load_fashion_mnist(True, train_subset, seed)
    test = load_fashion_mnist(False, test_subset, seed)
    return (TensorLoader(train, batch_size, shuffle=True, seed=seed),
            TensorLoader(test, 1000, shuffle=False))


def cifar100_loaders(
    train_subset: int | None, test_subset: int | None, batch_size: int, seed: int = 0
) -> tuple[TensorLoader, TensorLoader]:
    """CIFAR-100 loaders: crop-and-flip augmentation on the training split only."""
    train = load_cifar100(True, train_subset, seed)
    test = load_cifar100(False, test_subset, seed)
    return (TensorLoader(train, batch_size, shuffle=True, seed=seed, augment=random_crop_flip),
            TensorLoader(test, 1000, shuffle=False))
