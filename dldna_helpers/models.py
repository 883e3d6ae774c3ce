"""The chapter's models: the FashionMNIST MLP, a small CIFAR CNN, a small ViT with patch
tokens, and a deep MLP with optional residual connections (for the skip-connection study)."""
from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = ("prelu", "relu", "leaky_relu", "tanh", "gelu", "sigmoid")


def make_activation(name: str) -> nn.Module:
    """An activation module by name; ``prelu`` has one learnable slope for the whole layer."""
    key = name.lower()
    if key == "prelu":
        return nn.PReLU(num_parameters=1)
    if key == "relu":
        return nn.ReLU()
    if key == "leaky_relu":
        return nn.LeakyReLU(0.01)
    if key == "tanh":
        return nn.Tanh()
    if key == "gelu":
        return nn.GELU()
    if key == "sigmoid":
        return nn.Sigmoid()
    raise ValueError(f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}")


class MLP(nn.Module):
    """The chapter's classifier: 784→256→192→128→64→10 with one activation module per hidden layer."""

    def __init__(
        self,
        in_features: int = 784,
        hidden: tuple[int, ...] = (256, 192, 128, 64),
        num_classes: int = 10,
        activation: str = "prelu",
    ) -> None:
        super().__init__()
        if not hidden or any(h < 1 for h in hidden):
            raise ValueError(f"hidden sizes must be positive, got {hidden}")
        sizes = (in_features, *hidden)
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), make_activation(activation)]
        layers.append(nn.Linear(sizes[-1], num_classes))
        self.net = nn.Sequential(*layers)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))

    def linear_layers(self) -> list[nn.Linear]:
        return [m for m in self.net if isinstance(m, nn.Linear)]


class SmallCNN(nn.Module):
    """Three conv blocks (conv-BN-ReLU ×2, max-pool) and a linear head for 32×32 RGB images."""

    def __init__(self, num_classes: int = 100, width: int = 32) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                nn.MaxPool2d(2),
            )

        self.features = nn.Sequential(block(3, width), block(width, 2 * width), block(2 * width, 4 * width))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class SmallViT(nn.Module):
    """A small Vision Transformer: the image is cut into patch tokens (4×4 → 64 tokens for 32×32),
    so self-attention really mixes information across the image."""

    def __init__(
        self,
        image_size: int = 32,
        patch_size: int = 4,
        in_channels: int = 3,
        num_classes: int = 100,
        dim: int = 128,
        depth: int = 4,
        heads: int = 4,
        mlp_dim: int = 256,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"image_size={image_size} is not divisible by patch_size={patch_size}")
        n_tokens = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n_tokens + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            dim, heads, mlp_dim, dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)           # (B, N, dim)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        tokens = torch.cat([cls, tokens], dim=1) + self.pos_embed
        return self.head(self.norm(self.encoder(tokens))[:, 0])


class DeepMLP(nn.Module):
    """``depth`` equal-width hidden layers, with or without residual connections
    (x + f(x)), the same parameters either way: the small-scale version of Li et al. (2018)."""

    def __init__(
        self, depth: int, width: int = 64, in_features: int = 784, num_classes: int = 10, residual: bool = False
    ) -> None:
        super().__init__()
        if depth < 1 or width < 1:
            raise ValueError(f"depth and width must be positive, got depth={depth}, width={width}")
        self.residual = residual
        self.stem = nn.Linear(in_features, width)
        self.blocks = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.stem(x.flatten(1)))
        for block in self.blocks:
            out = torch.relu(block(h))
            h = h + out if self.residual else out
        return self.head(h)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
