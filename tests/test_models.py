import pytest
import torch
from torch import nn

from dldna_helpers.models import MLP, DeepMLP, SmallCNN, SmallViT, count_parameters, make_activation


def test_mlp_shape_and_one_prelu_parameter_per_layer():
    model = MLP()
    sizes = [(m.in_features, m.out_features) for m in model.linear_layers()]
    assert sizes == [(784, 256), (256, 192), (192, 128), (128, 64), (64, 10)]
    prelus = [m for m in model.modules() if isinstance(m, nn.PReLU)]
    assert len(prelus) == 4 and all(p.weight.numel() == 1 for p in prelus)
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)


def test_activation_is_configurable_and_validated():
    assert isinstance(MLP(activation="relu").net[1], nn.ReLU)
    with pytest.raises(ValueError, match="allowed: prelu"):
        make_activation("swishy")
    with pytest.raises(ValueError, match="positive"):
        MLP(hidden=(0,))


def test_cnn_and_vit_output_100_classes():
    x = torch.randn(2, 3, 32, 32)
    assert SmallCNN()(x).shape == (2, 100)
    vit = SmallViT(depth=2)
    assert vit(x).shape == (2, 100)


def test_vit_attention_sees_patch_tokens():
    vit = SmallViT(depth=1).eval()
    tokens = vit.patch_embed(torch.randn(1, 3, 32, 32)).flatten(2).transpose(1, 2)
    assert tokens.shape[1] == 64  # 8×8 patches of 4×4, not a single flattened token
    # Changing one corner patch changes the class token's output: information crosses tokens.
    x = torch.randn(1, 3, 32, 32)
    y = x.clone()
    y[..., :4, :4] += 1.0
    assert not torch.allclose(vit(x), vit(y))
    with pytest.raises(ValueError, match="divisible"):
        SmallViT(image_size=30, patch_size=4)


def test_deep_mlp_residual_and_plain_have_same_parameters():
    plain, residual = DeepMLP(6, residual=False), DeepMLP(6, residual=True)
    assert count_parameters(plain) == count_parameters(residual)
    residual.load_state_dict(plain.state_dict())
    x = torch.randn(4, 784)
    assert not torch.allclose(plain(x), residual(x))
