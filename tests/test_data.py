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


# ------------------------------------------------------------------ bad data files (issue 15, item 6)
def _debian(tmp_path, monkeypatch, images, labels, prefix="train"):
    folder = tmp_path / "bad"
    folder.mkdir(exist_ok=True)
    _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
    _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", folder)
    return folder


@pytest.mark.parametrize("images, labels, message", [
    (np.zeros((30, 28, 28)), np.arange(100) % 10, r"30 images but labels of shape \(100,\)"),
    (np.zeros((30, 28, 27)), np.arange(30) % 10, r"images have shape \(28, 27\), expected \(28, 28\)"),
    (np.zeros((30, 28, 28)), np.arange(30) % 12, r"labels range over 0..11, expected 0..9"),
    (np.zeros((30, 28, 28)), np.zeros((30, 2)), "rank 2, but an IDX file of labels has rank 1"),
])
def test_misshapen_idx_files_are_refused_by_name_and_not_cached(tmp_path, monkeypatch, tmp_cache,
                                                               images, labels, message):
    folder = _debian(tmp_path, monkeypatch, images, labels)
    with pytest.raises(data.DataFileError, match=message) as err:
        data.load_fashion_mnist(train=True)
    assert str(folder) in str(err.value)
    assert not (tmp_cache / "data" / "fashion_mnist_train.pt").exists()
    _debian(tmp_path, monkeypatch, np.zeros((30, 28, 28)), np.arange(30) % 10)  # the source is fixed
    assert len(data.load_fashion_mnist(train=True)) == 30


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[: len(b) // 2], "cannot be read or decompressed"),                 # truncated .gz
    (lambda b: b"not gzip at all" + b, "cannot be read or decompressed"),
    (lambda b: gzip.compress(b"\x01\x02\x08\x03" + gzip.decompress(b)[4:]), "not an unsigned-byte IDX file"),
    (lambda b: gzip.compress(gzip.decompress(b)[:-5]), "truncated or padded"),
])
def test_damaged_idx_files_name_the_file(tmp_path, monkeypatch, tmp_cache, damage, message):
    folder = _debian(tmp_path, monkeypatch, np.zeros((30, 28, 28)), np.arange(30) % 10)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(data.DataFileError, match=message) as err:
        data.load_fashion_mnist(train=True)
    assert str(path) in str(err.value)


def test_one_missing_file_is_named(tmp_path, monkeypatch, tmp_cache):
    folder = _debian(tmp_path, monkeypatch, np.zeros((30, 28, 28)), np.arange(30) % 10)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST",
                        lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    with pytest.raises(data.DataUnavailableError, match="lacks .*train-labels-idx1-ubyte.gz.*--reinstall"):
        data.load_fashion_mnist(train=True)


def test_a_damaged_data_cache_is_rebuilt(fake_debian, tmp_cache):
    data.load_fashion_mnist(train=False)
    cached = tmp_cache / "data" / "fashion_mnist_test.pt"
    cached.write_bytes(cached.read_bytes()[:100])
    with pytest.warns(RuntimeWarning, match=str(cached)):
        again = data.load_fashion_mnist(train=False)
    assert len(again) == 10
    assert len(data.load_fashion_mnist(train=False)) == 10  # healed: read without a warning


@pytest.mark.parametrize("n", [0, -5, 2.5, True, "10"])
def test_standin_and_real_subset_sizes_are_validated_alike(monkeypatch, tmp_cache, fake_debian, n):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "CIFAR100",
                        lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    monkeypatch.setenv(data.STANDIN_ENV, "1")
    with pytest.raises(ValueError, match="subset size must be a positive int or None"):
        data.load_cifar100(train=False, subset=n)
    with pytest.raises(ValueError, match="subset size must be a positive int or None"):
        data.load_fashion_mnist(train=False, subset=n)


# ------------------------------------------------------------------ DLDNA_ALLOW_STANDIN (item 7)
@pytest.mark.parametrize("value, allowed", [
    *[(v, True) for v in ("1", "true", "TRUE", "yes", "Yes", "on", "ON", "y", "Y", " true ")],
    *[(v, False) for v in ("0", "false", "False", "no", "NO", "off", "n", "N", "")],
])
def test_standin_permission_accepts_the_usual_spellings(monkeypatch, value, allowed):
    monkeypatch.setenv(data.STANDIN_ENV, value)
    assert data.standin_allowed() is allowed


@pytest.mark.parametrize("value", ["2", "maybe", "ja", "truee", "-1"])
def test_standin_permission_refuses_other_values(monkeypatch, value):
    monkeypatch.setenv(data.STANDIN_ENV, value)
    with pytest.raises(ValueError, match=f"DLDNA_ALLOW_STANDIN={value!r} is not a yes/no value"):
        data.standin_allowed()


# ------------------------------------------------------------------ memory (issue 12, item 4)
class _FakeCifar:
    def __init__(self, root, train=True, download=False):
        rng = np.random.default_rng(0 if train else 1)
        n = 500 if train else 100
        self.data = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        self.targets = list(rng.integers(0, 100, n))
        self.classes = [f"c{i}" for i in range(100)]


def test_cifar_subset_is_taken_before_the_float_conversion(monkeypatch, tmp_cache):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "CIFAR100", _FakeCifar)
    converted = []
    normalise = data._normalise_cifar
    monkeypatch.setattr(data, "_normalise_cifar", lambda images: converted.append(len(images)) or normalise(images))
    d = data.load_cifar100(train=True, subset=64, seed=3)
    assert converted == [64] and not d.is_standin
    # the same samples as converting everything and then taking the seeded subset
    raw = _FakeCifar(None)
    full = normalise(torch.from_numpy(raw.data).permute(0, 3, 1, 2).contiguous())
    idx = torch.randperm(500, generator=torch.Generator().manual_seed(3))[:64]
    assert torch.equal(d.x, full[idx]) and d.y.tolist() == [raw.targets[i] for i in idx]
    assert len(data.load_cifar100(train=False, subset=None)) == 100


def test_cifar_labels_are_validated(monkeypatch, tmp_cache):
    import torchvision.datasets

    class Broken(_FakeCifar):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.targets = self.targets[:-1]

    monkeypatch.setattr(torchvision.datasets, "CIFAR100", Broken)
    with pytest.raises(data.DataFileError, match="500 images but labels of shape"):
        data.load_cifar100(train=True, subset=10)
