"""Data is never the bottleneck: in-memory loaders vs. pre-made tensors and vs. torchvision.

Prints two ratios, measured side by side in one run:
1. one MLP epoch with ``TensorLoader`` / the same epoch on pre-made batch tensors (target ≤ 1.2);
2. iterating one epoch of batches (no model): torchvision ``DataLoader`` with the per-sample
   ``ToTensor`` transform / ``TensorLoader`` (target ≥ 5).
The last line is the summary.
"""
from __future__ import annotations


import torch
from torch import nn

from dldna_helpers.data import DEBIAN_FASHION_MNIST, TensorLoader, load_fashion_mnist
from dldna_helpers.models import MLP
from timing import best_time


def epoch(model, opt, batches) -> None:
    loss_fn = nn.CrossEntropyLoss()
    for xb, yb in batches:
        opt.zero_grad(set_to_none=True)
        loss_fn(model(xb), yb).backward()
        opt.step()


def main() -> None:
    torch.manual_seed(0)
    train = load_fashion_mnist(True, subset=20000)
    loader = TensorLoader(train, 128, shuffle=True, seed=0)
    premade = [(xb.clone(), yb.clone()) for xb, yb in loader]
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    epoch(model, opt, premade)  # warm-up

    # interleave the two measurements so machine noise hits both alike
    t_loader, t_premade = [], []
    for _ in range(3):
        t_loader.append(best_time(lambda: epoch(model, opt, loader), 1))
        t_premade.append(best_time(lambda: epoch(model, opt, premade), 1))
    ratio_train = min(t_loader) / min(t_premade)
    print(f"MLP epoch, 20k samples: TensorLoader {min(t_loader):.3f} s, pre-made tensors {min(t_premade):.3f} s")
    print(f"ratio TensorLoader/pre-made = {ratio_train:.2f} (target <= 1.2)")

    from torchvision import datasets, transforms

    tv = datasets.FashionMNIST(str(_torchvision_root()), train=True, download=False,
                               transform=transforms.ToTensor())
    tv_loader = torch.utils.data.DataLoader(torch.utils.data.Subset(tv, range(20000)), batch_size=128, shuffle=True)
    t_tv = best_time(lambda: [None for _ in tv_loader], 2)
    t_ours = best_time(lambda: [None for _ in loader], 3)
    ratio_iter = t_tv / t_ours
    print(f"iterate one epoch (no model): torchvision+ToTensor {t_tv:.3f} s, TensorLoader {t_ours:.4f} s")
    print(f"SUMMARY data: epoch ratio {ratio_train:.2f} (<= 1.2), iteration speed-up {ratio_iter:.1f}x (>= 5)")


def _torchvision_root():
    """A torchvision-layout copy of FashionMNIST (decompressed IDX files) made from the
    local source files, so torchvision finds the data without downloading."""
    import gzip

    from dldna_helpers.env import cache_dir

    raw = cache_dir("data", "tv_bench", "FashionMNIST", "raw")
    for f in DEBIAN_FASHION_MNIST.glob("*.gz"):
        target = raw / f.stem
        if not target.exists():
            target.write_bytes(gzip.decompress(f.read_bytes()))
    return raw.parent.parent


if __name__ == "__main__":
    main()
