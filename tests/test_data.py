"""data (Dataset, TensorDataset, DataLoader) and datasets (digits, MNIST IDX parsing and
download, synthetic sets)."""

import gzip
import hashlib
import io
import os
import urllib.error

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, datasets
from tinygrad_edu.data import DataLoader, Dataset, Subset, TensorDataset, random_split


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), batch=st.integers(1, 12), shuffle=st.booleans(),
       drop_last=st.booleans())
def test_loader_covers_each_sample_once(n, batch, shuffle, drop_last):
    x = np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    loader = DataLoader(TensorDataset(x, np.arange(n)), batch_size=batch, shuffle=shuffle,
                        drop_last=drop_last, seed=1)
    seen = []
    for xb, yb in loader:
        assert isinstance(xb, Tensor) and xb.shape[1:] == (3,)
        assert len(xb) == batch or not drop_last
        np.testing.assert_array_equal(xb.data[:, 0], yb.data)
        seen.extend(yb.data.tolist())
    assert len(seen) == len(loader) * batch if drop_last else len(seen) == n
    assert len(set(seen)) == len(seen)
    if not drop_last:
        assert sorted(seen) == list(range(n))
    if not shuffle:
        assert seen == sorted(seen)


def test_shuffle_is_seeded_and_changes_every_epoch():
    ds = TensorDataset(np.arange(20))
    order = lambda loader: [int(v) for (b,) in loader for v in b.data]  # noqa: E731
    a, b = DataLoader(ds, 5, shuffle=True, seed=3), DataLoader(ds, 5, shuffle=True, seed=3)
    first = order(a)
    assert first == order(b)
    assert order(a) != first  # a new permutation in the next epoch
    tg.manual_seed(7)
    c = order(DataLoader(ds, 5, shuffle=True))
    tg.manual_seed(7)
    assert order(DataLoader(ds, 5, shuffle=True)) == c


def test_generic_dataset_and_collate():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.array([i, i * i], np.float32), "y": i}

    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    np.testing.assert_array_equal(batches[1]["x"].data, [[2, 4], [3, 9]])
    np.testing.assert_array_equal(batches[2]["y"].data, [4])
    with pytest.raises(NotImplementedError):
        len(Dataset())
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Squares(), batch_size=0)
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))


def test_random_split():
    ds = TensorDataset(np.arange(10))
    a, b = random_split(ds, [7, 3], seed=0)
    assert isinstance(a, Subset) and len(a) == 7 and len(b) == 3
    values = sorted(int(a[i][0]) for i in range(7)) + sorted(int(b[i][0]) for i in range(3))
    assert sorted(values) == list(range(10))
    assert [len(s) for s in random_split(ds, [0.5, 0.5], seed=0)] == [5, 5]
    with pytest.raises(ValueError, match="add up"):
        random_split(ds, [5, 6])


# ---------------------------------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------------------------------
def test_load_digits():
    pytest.importorskip("sklearn")
    (x, y), (xt, yt) = datasets.load_digits()
    assert x.shape[1:] == (1, 8, 8) and x.dtype == np.float32 and y.dtype == np.int64
    assert len(x) + len(xt) == 1797 and len(xt) == 359
    assert 0 <= x.min() and x.max() <= 1 and set(np.unique(y)) == set(range(10))
    (x2, _), _ = datasets.load_digits()
    np.testing.assert_array_equal(x, x2)  # the same split every time
    (big, _), _ = datasets.load_digits(size=32)
    assert big.shape[1:] == (1, 32, 32) and 0 <= big.min() and big.max() <= 1
    (near, _), _ = datasets.load_digits(size=32, mode="nearest")
    np.testing.assert_array_equal(near[:, :, ::4, ::4], x)


def test_resize_matches_torch_interpolate():
    torch = pytest.importorskip("torch")
    img = np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32)
    for mode in ("nearest", "bilinear"):
        ref = torch.nn.functional.interpolate(torch.tensor(img), size=(32, 32), mode=mode,
                                              **({"align_corners": False} if mode == "bilinear" else {}))
        np.testing.assert_allclose(datasets.resize_images(img, 32, mode), ref.numpy(), atol=1e-6)


def _idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += np.array(array.shape, dtype=">i4").tobytes()
    return header + array.tobytes()


def _write_mnist(root, n_train=6, n_test=4, compress=True):
    rng = np.random.default_rng(0)
    files = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        files[f"{split}-images-idx3-ubyte.gz"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        files[f"{split}-labels-idx1-ubyte.gz"] = rng.integers(0, 10, n, dtype=np.uint8)
    for name, array in files.items():
        raw = _idx_bytes(array)
        path = os.path.join(root, name if compress else name[:-3])
        with open(path, "wb") as f:
            f.write(gzip.compress(raw) if compress else raw)
    return files


@pytest.mark.parametrize("compress", [True, False])
def test_load_mnist_parses_idx_files(tmp_path, compress):
    files = _write_mnist(str(tmp_path), compress=compress)
    (x, y), (xt, yt) = datasets.load_mnist(str(tmp_path), download=False)
    assert x.shape == (6, 1, 28, 28) and xt.shape == (4, 1, 28, 28)
    np.testing.assert_allclose(x[:, 0] * 255, files["train-images-idx3-ubyte.gz"], atol=1e-3)
    np.testing.assert_array_equal(yt, files["t10k-labels-idx1-ubyte.gz"])
    assert y.dtype == np.int64 and x.dtype == np.float32
    (x32, _), _ = datasets.load_mnist(str(tmp_path), download=False, size=32)
    assert x32.shape == (6, 1, 32, 32)


def test_parse_idx_rejects_bad_files():
    good = _idx_bytes(np.zeros((2, 3), np.uint8))
    assert datasets.parse_idx(good).shape == (2, 3)
    with pytest.raises(ValueError, match="magic"):
        datasets.parse_idx(b"\x01\x02\x08\x01" + good[4:])
    with pytest.raises(ValueError, match="size mismatch"):
        datasets.parse_idx(good[:-1])
    with pytest.raises(ValueError, match="truncated"):
        datasets.parse_idx(good[:6])


class _FakeResponse(io.BytesIO):
    headers: dict = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_load_mnist_downloads_verifies_and_caches(tmp_path, monkeypatch):
    source = tmp_path / "server"
    source.mkdir()
    _write_mnist(str(source))
    blobs = {name: (source / name).read_bytes() for name in datasets.MNIST_FILES}
    sums = {name: hashlib.md5(b).hexdigest() for name, b in blobs.items()}
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        return _FakeResponse(blobs[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(datasets.urllib.request, "urlopen", fake_urlopen)
    cache = tmp_path / "cache"
    (x, _), _ = datasets.load_mnist(str(cache), mirrors=("http://mirror/",), checksums=sums)
    assert x.shape == (6, 1, 28, 28) and len(calls) == 4
    datasets.load_mnist(str(cache), mirrors=("http://mirror/",), checksums=sums)
    assert len(calls) == 4  # cached: no second download
    bad = dict(sums, **{"train-images-idx3-ubyte.gz": "0" * 32})
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        datasets.load_mnist(str(tmp_path / "other"), mirrors=("http://mirror/",), checksums=bad)
    assert not (tmp_path / "other" / "train-images-idx3-ubyte.gz").exists()  # nothing half-written
    assert [p for p in os.listdir(tmp_path / "other") if p.endswith(".part")] == []


def test_load_mnist_offline_error(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match="offline") as info:
        datasets.load_mnist(str(tmp_path / "mnist"))
    assert "load_digits" in str(info.value)
    with pytest.raises(FileNotFoundError):
        datasets.load_mnist(str(tmp_path / "mnist"), download=False)


def test_synthetic_sets():
    images, masks, labels = datasets.make_shapes(30, size=16, seed=1, noise=0.1)
    assert images.shape == masks.shape == (30, 1, 16, 16) and labels.shape == (30,)
    assert set(np.unique(masks)) <= {0.0, 1.0} and masks.sum(axis=(1, 2, 3)).min() > 0
    assert 0 <= images.min() and images.max() <= 1
    x, y = datasets.make_adding_problem(20, length=15, seed=0)
    assert x.shape == (20, 15, 2) and y.shape == (20, 1)
    np.testing.assert_array_equal(x[:, :, 1].sum(axis=1), 2)
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=1), rtol=1e-6)
    x, y = datasets.make_copy_task(5, length=4, n_symbols=3, delay=6)
    assert x.shape == y.shape == (5, 14)
    np.testing.assert_array_equal(y[:, -4:], x[:, :4])
    assert (x[:, 9] == 4).all()
    pts, cls = datasets.make_spirals(90, classes=3)
    assert pts.shape == (90, 2) and np.bincount(cls).tolist() == [30, 30, 30]
    with pytest.raises(ValueError):
        datasets.make_shapes(3, size=4)
