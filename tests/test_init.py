"""dldna_helpers.init: initializer scales against their formulas and torch.nn.init,
orthogonality, statistics against numpy, signal statistics against autograd, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from dldna_helpers.init import (
    INITIALIZERS,
    activation_gradient_stats,
    effective_rank,
    fans,
    get_initializer,
    initialize,
    kaiming_normal_,
    layer_signals,
    lsuv_,
    matrix_statistics,
    orthogonal_,
    participation_ratio,
    weight_statistics,
    xavier_uniform_,
)
from dldna_helpers.models import MLP, SmallCNN, SmallViT

FAN_OUT, FAN_IN = 600, 1000  # 600k entries: the sample std is within ~0.1% of the true one


def empirical_std(key: str, shape=(FAN_OUT, FAN_IN), seed: int = 0) -> float:
    torch.manual_seed(seed)
    w = torch.empty(shape)
    INITIALIZERS[key](w)
    return float(w.std())


@pytest.mark.parametrize(
    "key, expected",
    [
        ("lecun", math.sqrt(1 / FAN_IN)),
        ("xavier_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("kaiming_normal", math.sqrt(2 / FAN_IN)),
        ("l-momentum", 0.9),
    ],
)
def test_std_matches_formula(key, expected):
    assert empirical_std(key) == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize(
    "key, reference",
    [
        ("xavier_normal", lambda w: nn.init.xavier_normal_(w)),
        ("kaiming_normal", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
        ("lecun", lambda w: nn.init.kaiming_normal_(w, nonlinearity="linear")),  # gain 1: LeCun normal
    ],
)
def test_std_matches_torch_reference(key, reference):
    torch.manual_seed(1)
    w = torch.empty(FAN_OUT, FAN_IN)
    reference(w)
    assert empirical_std(key) == pytest.approx(float(w.std()), rel=0.02)


def test_kaiming_leaky_form_matches_torch():
    a = 0.25  # PReLU's initial slope
    torch.manual_seed(0)
    ours = kaiming_normal_(torch.empty(FAN_OUT, FAN_IN), negative_slope=a)
    ref = nn.init.kaiming_normal_(torch.empty(FAN_OUT, FAN_IN), a=a, nonlinearity="leaky_relu")
    expected = math.sqrt(2 / ((1 + a**2) * FAN_IN))
    assert float(ours.std()) == pytest.approx(expected, rel=0.02)
    assert float(ref.std()) == pytest.approx(expected, rel=0.02)


def test_l_momentum_std_does_not_depend_on_fan_in():
    narrow = empirical_std("l-momentum", shape=(256, 64))
    wide = empirical_std("l-momentum", shape=(256, 784))
    assert narrow == pytest.approx(0.9, rel=0.02) and wide == pytest.approx(0.9, rel=0.02)


def test_fans_match_torch_for_linear_and_conv():
    for shape in [(10, 7), (16, 3, 3, 3), (8, 4, 5)]:
        w = torch.empty(shape)
        assert fans(w) == nn.init._calculate_fan_in_and_fan_out(w)


@pytest.mark.parametrize("shape", [(64, 64), (32, 100), (100, 32), (8, 3, 3, 3)])
def test_orthogonal_singular_values_are_one(shape):
    torch.manual_seed(0)
    w = orthogonal_(torch.empty(shape))
    s = torch.linalg.svdvals(w.reshape(shape[0], -1).double())
    assert torch.allclose(s, torch.ones_like(s), atol=1e-5)
    if len(shape) == 2:
        assert matrix_statistics(w)["condition_number"] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("shape", [(64, 64), (32, 100), (100, 32)])
def test_scaled_orthogonal_singular_values_equal_gain(shape):
    torch.manual_seed(0)
    w = INITIALIZERS["scaled_orthogonal"](torch.empty(shape))
    s = torch.linalg.svdvals(w.double())
    assert torch.allclose(s, torch.full_like(s, math.sqrt(2)), atol=1e-5)
    stats = matrix_statistics(w)
    assert stats["spectral_norm"] == pytest.approx(math.sqrt(2), abs=1e-5)
    assert stats["condition_number"] == pytest.approx(1.0, abs=1e-5)
    assert stats["effective_rank_ratio"] == pytest.approx(1.0, abs=1e-6)


def numpy_effective_rank(a: np.ndarray) -> float:
    s = np.linalg.svd(a, compute_uv=False)
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


@pytest.mark.parametrize("shape", [(5, 5), (20, 7), (7, 20), (50, 40)])
def test_matrix_statistics_match_numpy(shape):
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape) * rng.uniform(0.1, 3.0, size=shape[1])  # uneven column scales
    stats = matrix_statistics(torch.from_numpy(a))
    assert stats["condition_number"] == pytest.approx(np.linalg.cond(a, 2), rel=1e-9)
    assert stats["spectral_norm"] == pytest.approx(np.linalg.norm(a, 2), rel=1e-9)
    assert stats["effective_rank"] == pytest.approx(numpy_effective_rank(a), rel=1e-9)
    assert stats["effective_rank_ratio"] == pytest.approx(numpy_effective_rank(a) / min(shape), rel=1e-9)


def test_effective_rank_extremes():
    assert effective_rank(torch.ones(12)) == pytest.approx(12.0)
    assert effective_rank(torch.tensor([3.0, 0.0, 0.0])) == pytest.approx(1.0)


def test_singular_and_non_finite_matrices():
    singular = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # σ_min exactly 0
    assert matrix_statistics(singular)["condition_number"] == math.inf
    broken = torch.tensor([[1.0, math.nan], [0.0, 1.0]])
    assert all(math.isnan(v) for v in matrix_statistics(broken).values())


def test_weight_statistics_reports_non_finite_instead_of_averaging():
    torch.manual_seed(0)
    model = initialize(MLP(), "orthogonal")
    with torch.no_grad():
        model.net[2].weight[0, 0] = math.inf
    stats = weight_statistics(model)
    assert list(stats["non_finite"]) == ["net.2.weight"]
    assert stats["condition_number"] == pytest.approx(1.0, abs=1e-5)  # mean of the 4 finite ones
    assert math.isfinite(stats["spectral_norm"])


def test_weight_statistics_ignore_one_dimensional_parameters():
    torch.manual_seed(0)
    model = initialize(MLP(activation="prelu"), "kaiming_normal")
    before = weight_statistics(model)
    assert before["n_matrices"] == 5  # the five linear weights; no bias, no PReLU slope
    assert set(before["per_matrix"]) == {f"net.{i}.weight" for i in (0, 2, 4, 6, 8)}
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:
                p.fill_(1e6)
    after = weight_statistics(model)
    for key in ("condition_number", "spectral_norm", "effective_rank", "effective_rank_ratio"):
        assert after[key] == before[key]
    manual = np.mean([np.linalg.norm(m.weight.detach().double().numpy(), 2) for m in model.linear_layers()])
    assert before["spectral_norm"] == pytest.approx(manual, rel=1e-9)


def test_initialize_zeroes_biases_keeps_prelu_slopes_and_returns_model():
    model = MLP(activation="prelu")
    with torch.no_grad():
        slopes = [p.clone() for n, p in model.named_parameters() if p.dim() == 1 and not n.endswith("bias")]
    torch.manual_seed(0)
    assert initialize(model, "lecun") is model
    for layer in model.linear_layers():
        assert torch.count_nonzero(layer.bias) == 0
        assert float(layer.weight.detach().std()) == pytest.approx(math.sqrt(1 / layer.in_features), rel=0.1)
    kept = [p for n, p in model.named_parameters() if p.dim() == 1 and not n.endswith("bias")]
    assert len(kept) == 4 and all(torch.equal(a, b) for a, b in zip(slopes, kept))


def test_initialize_transformer_weights_but_not_embeddings():
    torch.manual_seed(0)
    vit = SmallViT(image_size=8, patch_size=4, dim=16, depth=1, heads=2, mlp_dim=32, num_classes=5)
    with torch.no_grad():
        vit.encoder.layers[0].self_attn.in_proj_bias.fill_(1.0)
    pos, cls = vit.pos_embed.detach().clone(), vit.cls_token.detach().clone()
    initialize(vit, "orthogonal")
    attn = vit.encoder.layers[0].self_attn
    s = torch.linalg.svdvals(attn.in_proj_weight.detach().double())  # (3·16, 16): orthonormal columns
    assert torch.allclose(s, torch.ones_like(s), atol=1e-5)
    assert torch.count_nonzero(attn.in_proj_bias) == 0
    assert torch.equal(vit.pos_embed, pos) and torch.equal(vit.cls_token, cls)
    assert torch.equal(vit.norm.weight, torch.ones_like(vit.norm.weight))  # 1-D scale kept


def test_weight_statistics_skip_conv_kernels():
    stats = weight_statistics(initialize(SmallCNN(num_classes=7, width=4), "kaiming_normal"))
    assert list(stats["per_matrix"]) == ["head.2.weight"]


def test_unknown_key_names_the_known_ones():
    with pytest.raises(KeyError, match="kaiming_normal") as info:
        initialize(MLP(), "he_uniform")
    assert "he_uniform" in str(info.value)
    with pytest.raises(KeyError, match="lecun"):
        get_initializer("Kaiming")


@pytest.mark.parametrize("bad", [(orthogonal_, {"gain": 0.0}), (kaiming_normal_, {"negative_slope": -1.0})])
def test_bad_hyperparameters_raise(bad):
    fn, kwargs = bad
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        fn(torch.empty(4, 4), **kwargs)


def test_one_dimensional_weight_is_rejected():
    with pytest.raises(ValueError, match="2 dims"):
        INITIALIZERS["xavier_normal"](torch.empty(10))


def test_weight_statistics_needs_a_matrix():
    with pytest.raises(ValueError, match="no 2-D weight"):
        weight_statistics(nn.PReLU())


def test_activation_gradient_stats_match_autograd():
    torch.manual_seed(0)
    model = initialize(MLP(in_features=12, hidden=(9, 7), num_classes=4), "xavier_normal")
    x, y = torch.randn(16, 12), torch.randint(0, 4, (16,))
    params_before = [p.detach().clone() for p in model.parameters()]
    stats = activation_gradient_stats(model, x, y)

    # reference: the pre-activations and their gradients computed by hand
    l1, a1, l2, a2, l3 = model.net
    z1 = l1(x)
    z2 = l2(a1(z1))
    z3 = l3(a2(z2))
    loss = nn.functional.cross_entropy(z3, y)
    zs = (z1, z2, z3)
    grads = torch.autograd.grad(loss, [*zs, l1.weight, l2.weight, l3.weight])
    assert stats["layer"] == ["net.0", "net.2", "net.4"]
    assert stats["fan_in"] == [12, 9, 7] and stats["fan_out"] == [9, 7, 4]
    for i in range(3):
        assert stats["activation_std"][i] == pytest.approx(float(zs[i].detach().std()), rel=1e-6)
        assert stats["output_grad_std"][i] == pytest.approx(float(grads[i].std()), rel=1e-6)
        assert stats["weight_grad_std"][i] == pytest.approx(float(grads[3 + i].std()), rel=1e-6)
    # nothing left behind: same parameters, no gradients, no hooks
    assert all(torch.equal(a, b) for a, b in zip(params_before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())
    assert all(not m._forward_hooks for m in model.modules())


def test_variance_preservation_in_a_deep_relu_net():
    """Kaiming keeps the forward signal's scale through 10 ReLU layers; LeCun halves its
    variance at each layer (factor 1/√2 in std), as the derivation in the page predicts."""
    torch.manual_seed(0)
    width, depth = 256, 10
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    net = nn.Sequential(*layers, nn.Linear(width, 10))
    x, y = torch.randn(512, width), torch.randint(0, 10, (512,))
    ratios = {}
    for key in ("kaiming_normal", "lecun"):
        stats = activation_gradient_stats(initialize(net, key), x, y)
        ratios[key] = stats["activation_std"][depth - 1] / stats["activation_std"][0]
    assert 0.5 < ratios["kaiming_normal"] < 2.0
    assert ratios["lecun"] == pytest.approx(2 ** (-(depth - 1) / 2), rel=0.35)


def test_xavier_uniform_has_glorots_bound_and_the_normal_forms_variance():
    torch.manual_seed(0)
    w = xavier_uniform_(torch.empty(FAN_OUT, FAN_IN))
    bound = math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.99 * bound
    assert float(w.std()) == pytest.approx(math.sqrt(2 / (FAN_IN + FAN_OUT)), rel=0.02)
    torch.manual_seed(0)
    ref = nn.init.xavier_uniform_(torch.empty(FAN_OUT, FAN_IN))
    assert torch.equal(w, ref)  # the same draws as torch's own implementation


@pytest.mark.parametrize("activation", ["prelu", "tanh", "sigmoid"])
def test_lsuv_gives_every_layer_unit_output_variance_on_its_batch(activation):
    torch.manual_seed(0)
    model = MLP(in_features=30, hidden=(40,) * 6, num_classes=5, activation=activation)
    x = torch.randn(200, 30) * 3 + 1
    report = lsuv_(model, x, tol=0.01)
    assert len(report) == 7 and all(r["iterations"] <= 10 for r in report)
    stds = activation_gradient_stats(model, x, torch.zeros(200, dtype=torch.long))["activation_std"]
    assert all(abs(s ** 2 - 1) < 0.01 for s in stds), stds
    for layer in model.linear_layers():   # orthogonal up to one scale per layer, zero bias
        s = torch.linalg.svdvals(layer.weight.detach().double())
        assert float(s.max() / s.min()) == pytest.approx(1.0, abs=1e-6)
        assert torch.count_nonzero(layer.bias) == 0


def test_lsuv_with_a_gaussian_start_keeps_the_gaussian_spectrum_and_sets_the_same_scale():
    torch.manual_seed(0)
    model = MLP(in_features=30, hidden=(40,) * 4, num_classes=5, activation="relu")
    x = torch.randn(200, 30)
    lsuv_(model, x, tol=0.01, start=kaiming_normal_)
    stds = activation_gradient_stats(model, x, torch.zeros(200, dtype=torch.long))["activation_std"]
    assert all(abs(s ** 2 - 1) < 0.01 for s in stds), stds
    square = torch.linalg.svdvals(model.linear_layers()[1].weight.detach().double())
    assert float(square.max() / square.min()) > 5   # a 40×40 Gaussian: spread singular values
    with pytest.raises(TypeError, match="start"):
        lsuv_(model, x, start="kaiming_normal")


def test_lsuv_refuses_bad_input():
    model = MLP(in_features=4, hidden=(3,), num_classes=2)
    with pytest.raises(ValueError, match="tol"):
        lsuv_(model, torch.randn(8, 4), tol=0)
    with pytest.raises(ValueError, match="max_iter"):
        lsuv_(model, torch.randn(8, 4), max_iter=0)
    with pytest.raises(ValueError, match="at least 2 samples"):
        lsuv_(model, torch.randn(1, 4))
    with pytest.raises(ValueError, match="std"):
        lsuv_(model, torch.zeros(8, 4))   # no signal: the scale cannot be set
    with pytest.raises(ValueError, match="no nn.Linear"):
        lsuv_(nn.Sequential(nn.ReLU()), torch.randn(8, 4))


def test_layer_signals_hold_the_values_whose_stds_the_stats_report():
    torch.manual_seed(0)
    model = initialize(MLP(in_features=12, hidden=(9, 7), num_classes=4, activation="tanh"), "xavier_normal")
    x, y = torch.randn(16, 12), torch.randint(0, 4, (16,))
    signals = layer_signals(model, x, y)
    stats = activation_gradient_stats(model, x, y)
    assert [float(z.std()) for z in signals["z"]] == pytest.approx(stats["activation_std"])
    assert [float(d.std()) for d in signals["delta"]] == pytest.approx(stats["output_grad_std"])
    assert len(signals["h"]) == 2   # one per hidden layer: h = tanh(z)
    for z, h in zip(signals["z"], signals["h"]):
        assert torch.allclose(h, torch.tanh(z))
    assert all(p.grad is None for p in model.parameters())
    assert all(not m._forward_hooks for m in model.modules())


def test_initialize_takes_a_function_too():
    model = initialize(MLP(in_features=5, hidden=(4,), num_classes=3), lambda w: nn.init.constant_(w, 0.5))
    assert all(bool((layer.weight == 0.5).all()) for layer in model.linear_layers())


def test_participation_ratio_counts_the_directions_a_batch_spreads_over():
    torch.manual_seed(0)
    assert participation_ratio(torch.randn(20000, 10)) == pytest.approx(10, rel=0.02)   # isotropic
    one = torch.randn(500, 1) * torch.randn(1, 10)
    assert participation_ratio(one) == pytest.approx(1.0)                             # one direction
    two = torch.cat([torch.randn(5000, 2), torch.zeros(5000, 8)], dim=1)
    assert participation_ratio(two) == pytest.approx(2, rel=0.05)
    h = torch.randn(64, 7).abs()   # the definition, from C itself
    c = h.T.double() @ h.double() / 64
    assert participation_ratio(h) == pytest.approx(float(torch.trace(c) ** 2 / torch.trace(c @ c)))
    with pytest.raises(ValueError, match="no direction"):
        participation_ratio(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="batch"):
        participation_ratio(torch.ones(4))


def test_the_mean_unit_variance_strays_by_the_participation_ratios_rule():
    """The fluctuation rule in participation_ratio's docstring, simulated over weight draws."""
    torch.manual_seed(0)
    n_in, n_out, draws = 32, 10, 4000
    h = torch.randn(256, n_in) @ torch.diag(torch.linspace(0.1, 3, n_in))   # anisotropic inputs
    c = h.T @ h / h.shape[0]
    w = torch.randn(draws, n_out, n_in)
    mean_var = torch.einsum("dui,ij,duj->d", w, c, w) / n_out / float(torch.trace(c))
    assert float(mean_var.mean()) == pytest.approx(1.0, abs=0.02)
    assert float(mean_var.std()) == pytest.approx(math.sqrt(2 / (n_out * participation_ratio(h))), rel=0.08)
