"""The chapter's reference run for sections 5.3 and 5.4, trained once and then loaded from the cache."""
from __future__ import annotations

from typing import Any

import torch

from ..data import fashion_mnist_loaders
from ..env import Profile
from ..init import initialize
from ..models import MLP
from ..training import History, train

# With Kaiming initialization, lr 0.05 diverged in 2 of 20 seeds (step losses 10⁶–10⁸ within the
# first epoch); at 0.02 none did, and the accuracy after two epochs was as high or higher.
LR, MOMENTUM = 0.02, 0.9


def chapter_config(profile: Profile, seed: int = 0) -> dict[str, Any]:
    """Everything that determines the run (the cache key): change any of it and it retrains."""
    return {
        "purpose": "loss landscape reference run (5.3, 5.4)",
        "model": "MLP(784-256-192-128-64-10, prelu)",
        "init": "kaiming_normal weights, zero biases (dldna_helpers.init.initialize), torch.manual_seed(seed)",
        "optimizer": {"name": "torch.optim.SGD", "lr": LR, "momentum": MOMENTUM},
        "data": {"name": "FashionMNIST", "train": profile.fmnist_train, "test": profile.fmnist_test,
                 "batch_size": profile.batch_size, "data_seed": seed},
        "epochs": profile.landscape_epochs,
        "seed": seed,
        "profile": profile.name,
    }


def chapter_run(profile: Profile, device: torch.device, seed: int = 0) -> tuple[MLP, History, dict[str, Any]]:
    """Train (or load from the cache) the chapter's MLP on FashionMNIST, one checkpoint per epoch:
    Kaiming normal initialization (5.1), momentum SGD (lr 0.02, momentum 0.9).

    Returns the model with its final weights on ``device``, the run's :class:`History` and the
    configuration dict; ``dldna_helpers.training.load_checkpoints(config)`` gives the per-epoch
    state dicts (epoch 0 = initialisation).
    """
    config = chapter_config(profile, seed)
    train_loader, test_loader = fashion_mnist_loaders(profile.fmnist_train, profile.fmnist_test,
                                                      profile.batch_size, seed=seed)
    torch.manual_seed(seed)
    model = initialize(MLP(), "kaiming_normal").to(device)   # 5.1's choice for a PReLU MLP
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    history = train(model, optimizer, train_loader, test_loader, profile.landscape_epochs,
                    device=device, cache_config=config)
    return model, history, config
