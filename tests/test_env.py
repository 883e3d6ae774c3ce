import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dldna_helpers import env


def test_profile_defaults_to_quick_without_cuda(monkeypatch):
    monkeypatch.delenv(env.PROFILE_ENV, raising=False)
    expected = "full" if torch.cuda.is_available() else "quick"
    assert env.get_profile().name == expected


def test_profile_env_override_and_argument(monkeypatch):
    monkeypatch.setenv(env.PROFILE_ENV, "full")
    assert env.get_profile().name == "full"
    assert env.get_profile("quick").name == "quick"
    assert env.get_profile(" QUICK ").name == "quick"


def test_invalid_profile_names_the_allowed_ones(monkeypatch):
    monkeypatch.setenv(env.PROFILE_ENV, "fast")
    with pytest.raises(ValueError, match=r"'fast'.*allowed: full, quick"):
        env.get_profile()


def test_quick_profile_is_smaller_than_full():
    quick, full = env.PROFILES["quick"], env.PROFILES["full"]
    assert full.fmnist_train is None and quick.fmnist_train < 60000
    for name in ("init_epochs", "optim_epochs", "cifar_epochs", "landscape_epochs", "surface_points"):
        assert getattr(quick, name) < getattr(full, name), name
    assert len(full.init_seeds) > 1 and len(full.optim_seeds) > 1


def test_sizes_env_changes_single_sizes_and_says_so(monkeypatch):
    monkeypatch.setenv(env.PROFILE_ENV, "full")
    monkeypatch.setenv(env.SIZES_ENV, '{"fmnist_train": 512, "init_seeds": [0, 1], "cifar_test": null, '
                                      '"sharpness_train": 256}')
    profile = env.get_profile()
    assert profile.name == "full" and profile.fmnist_train == 512 and profile.init_seeds == (0, 1)
    assert profile.cifar_test is None and profile.cifar_epochs == env.PROFILES["full"].cifar_epochs
    assert "크기 변경: cifar_test=None, fmnist_train=512, init_seeds=(0, 1), sharpness_train=256" in env.provenance(
        profile, torch.device("cpu"), 0, "test")
    monkeypatch.delenv(env.SIZES_ENV)
    assert env.get_profile().label() == "full" and env.get_profile() == env.PROFILES["full"]


@pytest.mark.parametrize("text,message", [
    ("cifar_epochs=5", "JSON object"),
    ("[1, 2]", "JSON object"),
    ('{"cifar_epoch": 5}', r"unknown size 'cifar_epoch'; allowed: fmnist_train"),
    ('{"cifar_epochs": 0}', "cifar_epochs must be a positive int up to 1000, got 0"),
    ('{"cifar_epochs": null}', "cifar_epochs must be a positive int up to 1000, got None"),
    ('{"fmnist_train": -3}', r"fmnist_train must be a positive int up to 60000 or null \(the whole split\), got -3"),
    ('{"init_seeds": 3}', "init_seeds must be a non-empty list of at most 20 different non-negative ints, got 3"),
    ('{"batch_size": true}', "batch_size must be a positive int up to 60000, got True"),
    # upper bounds: a subset larger than its split would silently be the whole split
    ('{"fmnist_train": 70000}', "fmnist_train must be a positive int up to 60000 or null"),
    ('{"cifar_test": 10001}', "cifar_test must be a positive int up to 10000 or null"),
    ('{"cifar_epochs": 100000}', "cifar_epochs must be a positive int up to 1000, got 100000"),
    ('{"surface_points": 5001}', "surface_points must be a positive int up to 401"),
    ('{"optim_seeds": ' + str(list(range(21))) + '}', "at most 20"),
    ('{"hessian_samples": 60001}', "hessian_samples must be a positive int up to 60000"),
    ('{"cifar_batch": 50001}', "cifar_batch must be a positive int up to 50000"),
    ('{"cifar_vit_dim": 66}', "cifar_vit_dim must be a multiple of 4"),
    ('{"cifar_cnn_width": 2048}', "cifar_cnn_width must be a positive int up to 1024"),
])
def test_bad_sizes_are_refused_with_what_is_allowed(monkeypatch, text, message):
    monkeypatch.setenv(env.SIZES_ENV, text)
    with pytest.raises(ValueError, match=message):
        env.get_profile("quick")


def test_device_is_never_hard_coded():
    assert env.get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert env.get_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            env.get_device("cuda")


def test_seed_everything_reproduces_all_generators():
    env.seed_everything(3)
    a = (np.random.rand(), torch.rand(2))
    env.seed_everything(3)
    b = (np.random.rand(), torch.rand(2))
    assert a[0] == b[0] and torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="non-negative int"):
        env.seed_everything(-1)


def test_korean_font_draws_hangul_without_missing_glyph_warnings():
    family = env.setup_korean_font()
    assert "Nanum" in family
    fig, ax = plt.subplots()
    ax.set_title("손실 곡선과 학습률 −1")
    ax.plot([-1, 1], [-2, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning
        fig.canvas.draw()
    assert plt.rcParams["axes.unicode_minus"] is True
    plt.close(fig)


def test_provenance_line_names_everything():
    line = env.provenance(env.PROFILES["quick"], torch.device("cpu"), (0, 1), "FashionMNIST")
    for part in ("quick", "cpu", "0,1", torch.__version__, "FashionMNIST"):
        assert part in line


def test_cache_dir_follows_environment(tmp_cache):
    path = env.cache_dir("runs")
    assert path.is_dir() and str(path).startswith(str(tmp_cache))


def test_log_axis_minus_sign_has_a_glyph(caplog):
    """Log-axis tick labels (10^-3) use mathtext's minus: the Korean font must provide it."""
    env.setup_korean_font()
    fig, ax = plt.subplots()
    ax.semilogy([1, 2, 3], [1e-3, 1e-1, 10])
    ax.set_xlabel("에포크 $x^{-2}$")
    with caplog.at_level("WARNING"):
        fig.canvas.draw()
    plt.close(fig)
    assert not [r for r in caplog.records if "does not have a glyph" in r.getMessage()]


def test_cifar_sizes_override_means_what_it_says(monkeypatch):
    """5.2 reads its CIFAR subsets, batch and model sizes from the profile as they are (nothing is
    divided on the page): an override is the size that runs."""
    monkeypatch.setenv(env.SIZES_ENV, '{"cifar_train": 800, "cifar_batch": 16, "cifar_vit_dim": 32}')
    profile = env.get_profile("quick")
    assert (profile.cifar_train, profile.cifar_batch, profile.cifar_vit_dim) == (800, 16, 32)
    quick = env.PROFILES["quick"]
    assert (quick.cifar_train, quick.cifar_test, quick.cifar_batch) == (500, 250, 32)
