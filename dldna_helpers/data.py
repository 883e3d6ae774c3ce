"""Datasets of the chapter, decoded once into tensors kept in memory.

FashionMNIST comes from (1) the decoded cache (``$DLDNA_CACHE_DIR/data``, each file checked on
read against its stored SHA-256, count and dtype), (2) IDX files a reader put in
``$DLDNA_CACHE_DIR/data/fashion-mnist`` (the offline way: :func:`offline_folder`), (3) Debian's
``dataset-fashion-mnist`` package, (4) torchvision (files already in its folder, or its download).
The data's ``source`` says which. CIFAR-100 comes from torchvision's download; an offline
stand-in of the same shape is used only when ``DLDNA_ALLOW_STANDIN=1`` permits it, and the
returned data says so (``is_standin``), so a page can say it visibly.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from .env import CacheDirError, cache_dir, env_flag
from .storage import is_write_failure, loads_json, save_atomic, write_problem

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


class DataFileError(ValueError):
    """A data file is damaged or not what it claims to be; the message names the file."""


def _check_subset(n: int | None) -> None:
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n <= 0):
        raise ValueError(f"subset size must be a positive int or None (everything), got {n!r}")


def _subset_indices(total: int, n: int | None, seed: int) -> torch.Tensor | None:
    """The seeded random indices of a subset of ``n`` of ``total`` samples (``None``: take all)."""
    _check_subset(n)
    if n is None or n >= total:
        return None
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n]


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

    def inputs_finite(self) -> bool:
        """Whether every input value is finite. Computed once, and again only when ``x`` is replaced or
        changed in place (torch counts in-place writes in ``_version``)."""
        stamp = (id(self.x), self.x.data_ptr(), self.x._version)
        if getattr(self, "_finite_stamp", None) != stamp:
            self._finite = not self.x.is_floating_point() or bool(torch.isfinite(self.x).all())
            self._finite_stamp = stamp
        return self._finite

    def subset(self, n: int | None, seed: int = 0) -> "TensorData":
        """A seeded random subset of ``n`` samples (``None``, or ``n`` ≥ the size: everything)."""
        idx = _subset_indices(len(self), n, seed)
        if idx is None:
            return self
        return TensorData(self.x[idx], self.y[idx], self.classes, self.source, self.is_standin)


# ------------------------------------------------------------------ FashionMNIST
IDX_RANKS = {"images": 3, "labels": 1}
FASHION_IMAGE_SHAPE = (28, 28)


def _read_idx(path: Path, kind: str | None = None) -> np.ndarray:
    """Decode an IDX file (gzip or raw), the format MNIST-like data sets ship in, checking its
    header (magic number, unsigned-byte type, rank of ``kind``) against its length."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except PermissionError as err:
        raise DataFileError(f"{path} cannot be read: permission denied (the file is not damaged; give yourself "
                            "read access, e.g. `chmod a+r` on it)") from err
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DataFileError(f"{path} cannot be read or decompressed ({type(err).__name__}: {err}); "
                            "the file is damaged: replace it (reinstall or download it again)") from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataFileError(f"{path} is not an unsigned-byte IDX file (its first bytes are {data[:4]!r}, "
                            "expected 00 00 08 and the rank)")
    ndim = data[3]
    if kind is not None and ndim != IDX_RANKS[kind]:
        raise DataFileError(f"{path} has rank {ndim}, but an IDX file of {kind} has rank {IDX_RANKS[kind]}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(f"{path} is truncated inside its header ({len(data)} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(data) - header != int(np.prod(shape)):
        raise DataFileError(f"{path} declares shape {shape} ({int(np.prod(shape))} bytes of data) but holds "
                            f"{len(data) - header}: the file is truncated or padded")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def check_split(images: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, image_shape: tuple[int, ...],
                n_classes: int, where: str) -> None:
    """Refuse a split whose images and labels do not fit together: counts, image shape, label range."""
    if tuple(images.shape[1:]) != image_shape:
        raise DataFileError(f"{where}: images have shape {tuple(images.shape[1:])}, expected {image_shape}")
    if len(labels.shape) != 1 or labels.shape[0] != images.shape[0]:
        raise DataFileError(f"{where}: {images.shape[0]} images but labels of shape {tuple(labels.shape)}")
    if len(labels) == 0:
        raise DataFileError(f"{where}: the split is empty")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= n_classes:
        raise DataFileError(f"{where}: labels range over {low}..{high}, expected 0..{n_classes - 1}")


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (folder / name).exists():
            return folder / name
    return None


def _fashion_from_folder(folder: Path, train: bool) -> tuple[np.ndarray, np.ndarray] | str | None:
    """The split from IDX files in ``folder``: ``None`` if it has none of them, the missing
    file's name if only one of the pair is there; a damaged file raises :class:`DataFileError`."""
    prefix = "train" if train else "t10k"
    stems = {"images": f"{prefix}-images-idx3-ubyte", "labels": f"{prefix}-labels-idx1-ubyte"}
    found = {kind: _find_idx(folder, stem) for kind, stem in stems.items()}
    if all(p is None for p in found.values()):
        return None
    missing = [f"{folder / stems[kind]}.gz" for kind, p in found.items() if p is None]
    if missing:
        return ", ".join(missing)
    images, labels = _read_idx(found["images"], "images"), _read_idx(found["labels"], "labels")
    check_split(images, labels, FASHION_IMAGE_SHAPE, len(FASHION_MNIST_CLASSES_KO),
                f"{found['images']} with {found['labels'].name}")
    return images, labels


FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz")


def offline_folder() -> Path:
    """Where a reader without internet puts FashionMNIST's four IDX files (gzipped or not)."""
    return cache_dir("data", "fashion-mnist")


def _fashion_from_torchvision(root: Path, train: bool, missing: str | None = None
                              ) -> tuple[tuple[np.ndarray, np.ndarray], str]:
    """The split through torchvision, and whether it was downloaded now or found in ``root``."""
    from torchvision.datasets import FashionMNIST

    raw = root / "FashionMNIST" / "raw"
    prefix = "train" if train else "t10k"
    present = all((raw / f"{prefix}-{kind}").exists() for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"))
    try:
        ds = FashionMNIST(str(root), train=train, download=True)
    except Exception as exc:  # network errors come in many types
        if missing:
            how = missing
        else:
            how = "Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist`"
        raise DataUnavailableError(
            "FashionMNIST을 찾을 수 없고 내려받지도 못했습니다 (FashionMNIST is not on this machine "
            f"and the download failed: {exc}). {how}; elsewhere connect to the internet once, or copy the "
            f"four files {', '.join(FASHION_FILES)} (gzipped or not) from another machine into {offline_folder()}."
        ) from exc
    images, labels = ds.data.numpy(), ds.targets.numpy()
    check_split(images, labels, FASHION_IMAGE_SHAPE, len(FASHION_MNIST_CLASSES_KO), f"FashionMNIST in {root}")
    source = f"FashionMNIST (torchvision 폴더의 파일: {raw})" if present else "FashionMNIST (torchvision 다운로드)"
    return (images, labels), source


DATA_FORMAT = 2   # the decoded cache's layout: a .pt of uint8 images and int64 labels, and its .json record


def _array_record(t: torch.Tensor) -> dict[str, Any]:
    flat = t.contiguous().reshape(-1)
    raw = flat.view(torch.uint8).numpy() if flat.numel() else np.zeros(0, np.uint8)
    return {"count": int(t.shape[0]), "dtype": str(t.dtype), "shape": list(t.shape),
            "sha256": hashlib.sha256(memoryview(raw)).hexdigest()}


def data_record(images: torch.Tensor, labels: torch.Tensor, source: str, split: str) -> dict[str, Any]:
    """What the decoded cache stores beside a split and checks on every read."""
    return {"format": DATA_FORMAT, "split": split, "source": source,
            "images": _array_record(images), "labels": _array_record(labels)}


def _read_cached_fashion(cached: Path, split: str) -> tuple[torch.Tensor, torch.Tensor, str] | None:
    """The decoded split cached at ``cached``, checked against its record (split, count, dtype and
    SHA-256 of images and labels); ``None`` (with a warning naming it) if anything is off."""
    record_path = cached.with_suffix(".json")
    if not record_path.exists():   # written by an older version (no record): decode again, quietly
        return None
    try:
        record = loads_json(record_path.read_text(encoding="utf-8"))
        blob = torch.load(cached, weights_only=True)
        images, labels, source = blob["images"], blob["labels"], blob["source"]
        if images.dtype != torch.uint8 or labels.dtype != torch.int64:
            raise DataFileError(f"holds {images.dtype} images and {labels.dtype} labels, expected uint8 and int64")
        if not isinstance(record, dict) or record.get("split") != split or record.get("format") != DATA_FORMAT:
            found = record.get("split") if isinstance(record, dict) else None
            raise DataFileError(f"its record {record_path} is for split {found!r}, format "
                                f"{record.get('format') if isinstance(record, dict) else None!r}")
        actual = data_record(images, labels, source, split)
        if actual != record:
            wrong = [k for k in ("source", "images", "labels") if actual.get(k) != record.get(k)]
            raise DataFileError(f"its {' and '.join(wrong)} differ from the record {record_path} "
                                f"(count {actual['images']['count']} vs {record.get('images', {}).get('count')})")
        check_split(images, labels, FASHION_IMAGE_SHAPE, len(FASHION_MNIST_CLASSES_KO), str(cached))
    except Exception as err:
        warnings.warn(f"the cached data file {cached} is damaged ({type(err).__name__}: {err}); "
                      "decoding the data set again", RuntimeWarning, stacklevel=3)
        return None
    return images, labels, source


def _decode_fashion(train: bool) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The split from the first source that has it (module doc), as uint8 images, int64 labels, source."""
    try:
        folder = offline_folder()
        found = _fashion_from_folder(folder, train)
    except CacheDirError:
        folder, found = None, None
    if isinstance(found, tuple):
        source = f"FashionMNIST (IDX 파일: {folder})"
    else:
        missing = None if found is None else f"{folder} holds only some of the four files ({found} is missing)"
        found = _fashion_from_folder(DEBIAN_FASHION_MNIST, train)
        if isinstance(found, tuple):
            source = "FashionMNIST (Debian dataset-fashion-mnist)"
        else:
            if found is not None:
                missing = (f"the Debian data set is installed but lacks {found}: "
                           "`sudo apt-get install --reinstall dataset-fashion-mnist` restores it")
            found, source = _fashion_from_torchvision(cache_dir("data", "torchvision"), train, missing)
    images, labels = (torch.from_numpy(np.array(a)) for a in found)
    return images, labels.long(), source


def _store_decoded(cached: Path, images: torch.Tensor, labels: torch.Tensor, source: str, split: str) -> None:
    """Cache the decoded split with its record (a folder that cannot be written: a warning, no cache)."""
    try:
        save_atomic({"images": images, "labels": labels, "source": source}, cached)
        save_atomic(data_record(images, labels, source, split), cached.with_suffix(".json"))
    except (OSError, RuntimeError) as err:
        if not is_write_failure(err):
            raise
        warnings.warn(f"the decoded data could not be cached in {cached.parent} ({write_problem(err)}); it will be "
                      "decoded again next time", RuntimeWarning, stacklevel=3)


def load_fashion_mnist(train: bool = True, subset: int | None = None, seed: int = 0) -> TensorData:
    """FashionMNIST as normalized float tensors (N, 1, 28, 28) with Korean class names."""
    _check_subset(subset)
    split = "train" if train else "test"
    try:
        cached: Path | None = cache_dir("data") / f"fashion_mnist_{split}.pt"
    except CacheDirError as err:
        warnings.warn(f"{err} Decoding the data without caching it.", RuntimeWarning, stacklevel=2)
        cached = None
    loaded = _read_cached_fashion(cached, split) if cached is not None and cached.exists() else None
    if loaded is not None:
        images, labels, source = loaded
    else:
        images, labels, source = _decode_fashion(train)
        if cached is not None:
            _store_decoded(cached, images, labels, source, split)
    idx = _subset_indices(len(labels), subset, seed)  # subset first: only the kept images become floats
    if idx is not None:
        images, labels = images[idx], labels[idx]
    x = (images.float().div_(255.0).unsqueeze(1) - FASHION_MNIST_MEAN) / FASHION_MNIST_STD
    return TensorData(x, labels.long(), FASHION_MNIST_CLASSES_KO, source)


# ------------------------------------------------------------------ CIFAR-100
def standin_allowed() -> bool:
    """Whether ``$DLDNA_ALLOW_STANDIN`` permits the synthetic CIFAR-100 stand-in (unset: no)."""
    return env_flag(STANDIN_ENV)


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


def _normalise_cifar(images: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(CIFAR100_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR100_STD).view(1, 3, 1, 1)
    return (images.float() / 255.0 - mean) / std


def load_cifar100(train: bool = True, subset: int | None = None, seed: int = 0) -> TensorData:
    """CIFAR-100 as normalized float tensors (N, 3, 32, 32); a visible stand-in only if permitted.

    The subset is taken from the uint8 images before they become floats: with the whole
    training split that keeps the peak memory of a quick run far below 1 GB."""
    from torchvision.datasets import CIFAR100

    _check_subset(subset)
    root = cache_dir("data", "torchvision")
    try:
        ds = CIFAR100(str(root), train=train, download=True)
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
    else:
        labels = torch.tensor(ds.targets, dtype=torch.long)
        check_split(ds.data, labels, (32, 32, 3), 100, f"CIFAR-100 in {root}")
        idx = _subset_indices(len(labels), subset, seed)
        kept = ds.data if idx is None else ds.data[idx.numpy()]
        images = torch.from_numpy(kept).permute(0, 3, 1, 2).contiguous()
        labels = labels if idx is None else labels[idx]
        classes, source, standin = tuple(ds.classes), "CIFAR-100 (torchvision)", False
        del ds
    return TensorData(_normalise_cifar(images), labels, classes, source, standin)


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

    def inputs_known_finite(self) -> bool:
        """True when every batch this loader yields is known to be finite without looking at it: the
        batches are slices of data found finite (no augmentation makes new values)."""
        return self.augment is None and self.data.inputs_finite()

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
