import gzip
import urllib.error

import numpy as np
import pytest
import torch

from dldna_helpers import data


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_debian(tmp_path, monkeypatch, tmp_cache):
    """A tiny FashionMNIST in Debian's layout, so the source chain is tested without real data."""
    folder = tmp_path / "fashion"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 10)):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", folder)
    return folder


def test_idx_reader_and_normalisation(fake_debian):
    train = data.load_fashion_mnist(train=True)
    assert train.x.shape == (30, 1, 28, 28) and train.x.dtype == torch.float32
    assert train.y.tolist() == [i % 10 for i in range(30)]
    assert "Debian" in train.source and not train.is_standin
    raw = data._read_idx(fake_debian / "train-images-idx3-ubyte.gz")
    expected = (raw[3] / 255.0 - data.FASHION_MNIST_MEAN) / data.FASHION_MNIST_STD
    np.testing.assert_allclose(train.x[3, 0].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert len(train.classes) == 10 and train.classes[0] == "티셔츠/탑"


def test_cache_is_used_after_first_load(fake_debian, monkeypatch):
    data.load_fashion_mnist(train=False)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", fake_debian / "gone")
    again = data.load_fashion_mnist(train=False)
    assert len(again) == 10 and "Debian" in again.source


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path, monkeypatch, tmp_cache):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "nowhere")

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(data.DataUnavailableError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist(train=True)


def test_cifar_without_data_or_permission_fails_clearly(monkeypatch, tmp_cache, no_standin):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.datasets, "CIFAR100", offline)
    with pytest.raises(data.DataUnavailableError, match="DLDNA_ALLOW_STANDIN=1"):
        data.load_cifar100(train=True, subset=10)


def test_cifar_standin_only_with_permission_and_labelled(monkeypatch, tmp_cache):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "CIFAR100",
                        lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    monkeypatch.setenv(data.STANDIN_ENV, "1")
    d = data.load_cifar100(train=True, subset=64)
    assert d.is_standin and "아님" in d.source
    assert d.x.shape == (64, 3, 32, 32) and int(d.y.max()) < 100


def test_subset_is_seeded_and_validated():
    d = data.TensorData(torch.arange(20.0).view(20, 1, 1, 1), torch.arange(20), ("a",), "test")
    a, b = d.subset(5, seed=1), d.subset(5, seed=1)
    assert torch.equal(a.y, b.y) and len(a) == 5
    assert d.subset(None) is d
    with pytest.raises(ValueError, match="positive"):
        d.subset(0)


def test_loader_covers_every_sample_once_per_epoch():
    d = data.TensorData(torch.arange(10.0).view(10, 1, 1, 1), torch.arange(10), ("a",), "test")
    loader = data.TensorLoader(d, batch_size=4, shuffle=True, seed=0)
    assert len(loader) == 3
    seen = torch.cat([y for _, y in loader])
    assert sorted(seen.tolist()) == list(range(10))
    second = torch.cat([y for _, y in loader])
    assert not torch.equal(seen, second)  # reshuffled each epoch
    again = data.TensorLoader(d, batch_size=4, shuffle=True, seed=0)
    assert torch.equal(torch.cat([y for _, y in again]), seen)  # same seed, same order


def test_loader_rejects_bad_input():
    empty = data.TensorData(torch.zeros(0, 1, 1, 1), torch.zeros(0, dtype=torch.long), ("a",), "test")
    with pytest.raises(ValueError, match="empty"):
        data.TensorLoader(empty, 4)
    d = data.TensorData(torch.zeros(3, 1, 1, 1), torch.zeros(3, dtype=torch.long), ("a",), "test")
    with pytest.raises(ValueError, match="batch_size"):
        data.TensorLoader(d, 0)
    with pytest.raises(ValueError, match="drop_last"):
        data.TensorLoader(d, 5, drop_last=True)


def test_crop_flip_is_a_shift_or_mirror_of_the_image():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(16, 3, 32, 32)
    out = data.random_crop_flip(x, gen, padding=0)  # no padding: only flips remain
    for a, b in zip(x, out):
        assert torch.equal(a, b) or torch.equal(a.flip(-1), b)
    shifted = data.random_crop_flip(x, gen, padding=4)
    assert shifted.shape == x.shape


def test_training_augmentation_only_on_training_split(monkeypatch, tmp_cache):
    monkeypatch.setenv(data.STANDIN_ENV, "1")
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "CIFAR100",
                        lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    train, test = data.cifar100_loaders(64, 32, 16)
    assert train.augment is data.random_crop_flip and test.augment is None
    x1 = torch.cat([x for x, _ in test])
    x2 = torch.cat([x for x, _ in test])
    assert torch.equal(x1, x2)
