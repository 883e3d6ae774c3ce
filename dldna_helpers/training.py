"""Training loop of the chapter: per-epoch metrics, divergence detection, checkpoint cache.

``train`` records, per epoch, the train/test loss and accuracy and the mean global
gradient L2 norm; it stops at the first non-finite (or exploding) loss and reports the
run as diverged instead of printing ``nan``. With ``cache_config`` it saves a checkpoint
per epoch, atomically, in a folder keyed by a hash of the run's configuration, and a
later call with the same configuration loads the finished run instead of training again.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from .env import cache_dir
from .storage import save_atomic  # noqa: F401  (re-exported: part of this module's API)

DIVERGENCE_LOSS = 1e4  # a cross-entropy this large means the weights have blown up


@dataclass
class History:
    """What a run produced, epoch by epoch (index 0 is the state before training)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)   # mean global grad L2 norm per epoch (nan at 0)
    step_loss: list[float] = field(default_factory=list)   # every mini-batch loss
    diverged: bool = False
    diverged_step: int | None = None
    diverged_epoch: int | None = None
    wall_time: float = 0.0
    from_cache: bool = False

    @property
    def epochs(self) -> int:
        return len(self.test_loss) - 1

    def status(self) -> str:
        """'완료' or '발산 (n번째 스텝)' — what a table shows instead of nan."""
        return f"발산 ({self.diverged_step}번째 스텝)" if self.diverged else "완료"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, blob: Mapping[str, Any]) -> "History":
        return cls(**{k: v for k, v in blob.items() if k in cls.__dataclass_fields__})


def _batches(data: Any) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """``data`` is a loader of (x, y) batches or a single ``(x, y)`` tuple of tensors."""
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        return [data]
    return data


@torch.no_grad()
def evaluate(model: nn.Module, data: Any, loss_fn: nn.Module | None = None,
             device: torch.device | None = None) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``data`` (loader or ``(x, y)``), in eval mode."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for xb, yb in _batches(data):
        xb, yb = xb.to(device), yb.to(device)
        out = model(xb)
        total_loss += float(loss_fn(out, yb)) * len(yb)
        correct += int((out.argmax(1) == yb).sum())
        count += len(yb)
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluation data is empty: no batches were produced")
    return total_loss / count, correct / count


def global_grad_norm(parameters: Iterable[nn.Parameter]) -> float:
    """L2 norm of all gradients taken together (the norm of their concatenation)."""
    norms = [torch.linalg.vector_norm(p.grad.detach()) for p in parameters if p.grad is not None]
    if not norms:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(norms)))


# ------------------------------------------------------------------ checkpoint cache
def source_hash(package: Path) -> str:
    """A short hash of every ``.py`` file under ``package`` (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def code_fingerprint() -> str:
    """The source hash of this package: results are reused only by the code that made them."""
    return source_hash(Path(__file__).resolve().parent)


def compute_fingerprint() -> dict[str, Any]:
    """What besides the configuration decides a run's numbers: the helper code, the torch
    version and, on the CPU, the thread count (it changes the order of float sums)."""
    return {
        "code": code_fingerprint(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "threads": torch.get_num_threads(),
    }


def config_key(config: Mapping[str, Any]) -> str:
    """A short stable hash of a JSON-serialisable run configuration and of the code and
    environment that compute it (:func:`compute_fingerprint`), so a cache written by an
    older version of the helpers or with another thread count is never read back."""
    text = json.dumps({"fingerprint": compute_fingerprint(), **config}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_dir(config: Mapping[str, Any]) -> Path:
    """The cache folder of one run configuration."""
    return cache_dir("runs") / config_key(config)


def load_checkpoints(config: Mapping[str, Any]) -> list[tuple[int, dict[str, torch.Tensor]]]:
    """The per-epoch state dicts of a cached run, ordered by epoch number (numerically)."""
    folder = run_dir(config)
    files = sorted(folder.glob("epoch_*.pt"), key=lambda p: int(p.stem.split("_")[1]))
    if not files:
        raise FileNotFoundError(f"no checkpoints cached for this configuration in {folder}; run train(...) first")
    return [(int(p.stem.split("_")[1]), torch.load(p, weights_only=True)) for p in files]


# ------------------------------------------------------------------ the loop
def _use_progress_bar(progress: bool | None, total_steps: int) -> bool:
    return bool(progress) if progress is not None else total_steps >= 2000


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    test_loader: Any,
    epochs: int,
    *,
    loss_fn: nn.Module | None = None,
    device: torch.device | None = None,
    scheduler: Any = None,
    clip_grad_norm: float | None = None,
    clip_grad_value: float | None = None,
    after_backward: Callable[[nn.Module], None] | None = None,
    on_epoch_end: Callable[[int, nn.Module, History], None] | None = None,
    cache_config: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    divergence_loss: float = DIVERGENCE_LOSS,
) -> History:
    """Train ``model`` for ``epochs`` and return its :class:`History`.

    - Stops at the first mini-batch whose loss is nan/inf or above ``divergence_loss``;
      ``History.diverged`` and ``diverged_step`` say where.
    - Optimizers that estimate curvature (Sophia) expose ``hessian_due()`` and
      ``update_hessian(model, x, y, loss_fn)``; the loop calls them before ``step()``.
    - ``scheduler.step()`` runs once per epoch.
    - With ``cache_config``, checkpoints ``epoch_0.pt`` … are written atomically to
      :func:`run_dir`; an identical configuration later loads the finished run.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    for name, value in (("clip_grad_norm", clip_grad_norm), ("clip_grad_value", clip_grad_value)):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be positive or None, got {value!r}")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = device or next(model.parameters()).device
    model.to(device)

    folder = run_dir(cache_config) if cache_config is not None else None
    if folder is not None and (folder / "history.json").exists():
        history = History.from_json(json.loads((folder / "history.json").read_text()))
        final = history.diverged_epoch - 1 if history.diverged else history.epochs
        model.load_state_dict(torch.load(folder / f"epoch_{final}.pt", weights_only=True))
        if (folder / "optimizer.pt").exists():
            optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
        history.from_cache = True
        return history

    history = History()
    start = time.perf_counter()
    loss0, acc0 = evaluate(model, train_loader, loss_fn, device)
    tloss0, tacc0 = evaluate(model, test_loader, loss_fn, device)
    history.train_loss.append(loss0)
    history.train_acc.append(acc0)
    history.test_loss.append(tloss0)
    history.test_acc.append(tacc0)
    history.grad_norm.append(math.nan)
    if folder is not None:
        save_atomic(model.state_dict(), folder / "epoch_0.pt")

    n_batches = len(train_loader) if hasattr(train_loader, "__len__") else 0
    bar = None
    if _use_progress_bar(progress, n_batches * epochs):
        from tqdm.auto import tqdm

        bar = tqdm(total=n_batches * epochs, desc="학습", leave=False)

    step = 0
    params = [p for p in model.parameters() if p.requires_grad]
    for epoch in range(1, epochs + 1):
        model.train()
        loss_sum, correct, count, norm_sum, n_steps = 0.0, 0, 0, 0.0, 0
        for xb, yb in train_loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            step += 1
            value = float(loss.detach())
            if not math.isfinite(value) or value > divergence_loss:
                history.diverged, history.diverged_step, history.diverged_epoch = True, step, epoch
                history.step_loss.append(value)
                break
            loss.backward()
            if after_backward is not None:
                after_backward(model)
            norm_sum += global_grad_norm(params)
            if clip_grad_value is not None:
                nn.utils.clip_grad_value_(params, clip_grad_value)
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(params, clip_grad_norm)
            hessian_due = getattr(optimizer, "hessian_due", None)
            if hessian_due is not None and hessian_due():
                optimizer.update_hessian(model, xb, yb, loss_fn)
            optimizer.step()
            history.step_loss.append(value)
            loss_sum += value * len(yb)
            correct += int((out.detach().argmax(1) == yb).sum())
            count += len(yb)
            n_steps += 1
            if bar is not None:
                bar.update(1)
        if history.diverged:
            break
        if scheduler is not None:
            scheduler.step()
        test_loss, test_acc = evaluate(model, test_loader, loss_fn, device)
        history.train_loss.append(loss_sum / max(count, 1))
        history.train_acc.append(correct / max(count, 1))
        history.test_loss.append(test_loss)
        history.test_acc.append(test_acc)
        history.grad_norm.append(norm_sum / max(n_steps, 1))
        if folder is not None:
            save_atomic(model.state_dict(), folder / f"epoch_{epoch}.pt")
        if on_epoch_end is not None:
            on_epoch_end(epoch, model, history)
    if bar is not None:
        bar.close()
    history.wall_time = time.perf_counter() - start
    if folder is not None:
        save_atomic(optimizer.state_dict(), folder / "optimizer.pt")
        save_atomic(history.to_json(), folder / "history.json")  # written last: marks the run complete
    return history
