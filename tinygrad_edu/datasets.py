"""Datasets: scikit-learn's 8×8 digits (offline), MNIST (downloaded once), synthetic sets.

Every loader returns plain numpy arrays, `(x_train, y_train), (x_test, y_test)` for the real
data sets: images float32 (N, 1, H, W) in [0, 1], labels int64. Wrap them in
`data.TensorDataset` for a DataLoader.

>>> images, masks, labels = make_shapes(8, size=16, seed=0)
>>> images.shape, images.dtype, labels.dtype
((8, 1, 16, 16), dtype('float32'), dtype('int64'))
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request

import numpy as np


# ---------------------------------------------------------------------------------------------
# Resizing (numpy only)
# ---------------------------------------------------------------------------------------------
def _interp_matrix(n_in: int, n_out: int, mode: str) -> np.ndarray:
    """(n_out, n_in) matrix M so that M @ v resizes v as PyTorch's interpolate
    (align_corners=False): output pixel i samples the input at (i + ½)·n_in/n_out − ½."""
    m = np.zeros((n_out, n_in))
    scale = n_in / n_out
    for i in range(n_out):
        if mode == "nearest":
            m[i, min(int(np.floor(i * scale)), n_in - 1)] = 1
        else:
            src = max((i + 0.5) * scale - 0.5, 0.0)
            lo = min(int(np.floor(src)), n_in - 1)
            hi = min(lo + 1, n_in - 1)
            frac = src - lo
            m[i, lo] += 1 - frac
            m[i, hi] += frac
    return m


def resize_images(images: np.ndarray, size: int, mode: str = "bilinear") -> np.ndarray:
    """Resize (N, C, H, W) images to (N, C, size, size): 'nearest' or 'bilinear'."""
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"mode must be 'nearest' or 'bilinear', got {mode!r}")
    rows = _interp_matrix(images.shape[-2], size, mode)
    cols = _interp_matrix(images.shape[-1], size, mode)
    return (rows @ images.astype(np.float64) @ cols.T).astype(images.dtype)


# ---------------------------------------------------------------------------------------------
# Digits (scikit-learn's bundled 8×8 images: works offline)
# ---------------------------------------------------------------------------------------------
def load_digits(size: int | None = None, mode: str = "bilinear", test_fraction: float = 0.2,
                seed: int = 0):
    """The 1,797 8×8 handwritten digits bundled with scikit-learn.

    Returns (x_train, y_train), (x_test, y_test): images (N, 1, 8, 8) float32 in [0, 1]
    (or (N, 1, size, size) when `size` is given, e.g. 32 for LeNet-5), labels int64.
    The split is a random permutation fixed by `seed` (the same split on every call).
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn (pip install scikit-learn); "
                          "its 8×8 digits ship inside the package, no download needed") from None
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    digits = sk_load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]  # pixel values are 0 … 16
    labels = digits.target.astype(np.int64)
    if size is not None and size != 8:
        images = np.clip(resize_images(images, size, mode), 0, 1)
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = int(round(len(labels) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return (images[train], labels[train]), (images[test], labels[test])


# ---------------------------------------------------------------------------------------------
# MNIST
# ---------------------------------------------------------------------------------------------
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/")
MNIST_FILES = {  # name → md5 (the published checksums, as torchvision lists them)
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(raw: bytes) -> np.ndarray:
    """Parse the IDX format: 2 zero bytes, a type code, the number of dimensions, then each
    dimension as a big-endian int32, then the values."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError("not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX header truncated: {ndim} dimensions need {header} bytes")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"IDX data size mismatch: shape {shape} needs {expected} bytes, "
                         f"the file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file, gzip-compressed (.gz) or raw."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # the gzip magic number
        raw = gzip.decompress(raw)
    return parse_idx(raw)


def _md5(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(total: int | None, name: str):
    """A tqdm bar when tqdm is installed and stderr is a terminal, else None."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    if not sys.stderr.isatty():
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc=name)


def download(url: str, path: str, md5: str | None = None, timeout: float = 30) -> None:
    """Download `url` to `path` (atomically: a temporary file renamed when complete), showing a
    progress bar, and check its md5 checksum before it is put in place."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            bar = _progress(int(total) if total else None, os.path.basename(path))
            while True:
                block = response.read(1 << 16)
                if not block:
                    break
                out.write(block)
                if bar is not None:
                    bar.update(len(block))
            if bar is not None:
                bar.close()
        if md5 is not None and _md5(tmp) != md5:
            raise RuntimeError(f"checksum mismatch for {url}: expected md5 {md5}, got "
                               f"{_md5(tmp)} (corrupted or changed download)")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _fetch(root: str, name: str, md5: str | None, mirrors, download_ok: bool) -> str:
    """The path of `name` in root (or its uncompressed twin), downloading it if needed."""
    for candidate in (name, name[:-3] if name.endswith(".gz") else name):
        path = os.path.join(root, candidate)
        if os.path.exists(path):
            return path
    target = os.path.join(root, name)
    if not download_ok:
        raise FileNotFoundError(f"{target} not found and download=False")
    errors = []
    for mirror in mirrors:
        try:
            download(mirror + name, target, md5)
            return target
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            errors.append(f"{mirror}: {err}")
    raise RuntimeError(
        f"could not download {name} (are you offline?). Tried:\n  " + "\n  ".join(errors)
        + f"\nDownload the four MNIST files by hand into {root} (gzipped or not), "
          "or use datasets.load_digits(), which works offline.")


def load_mnist(root: str = "data/mnist", download: bool = True, size: int | None = None,
               mirrors=MNIST_MIRRORS, checksums: dict | None = None):
    """MNIST: (x_train, y_train), (x_test, y_test), images (N, 1, 28, 28) float32 in [0, 1]
    (resized when `size` is given, e.g. 32), labels int64.

    The four IDX files are looked up in `root` (.gz or uncompressed); missing ones are
    downloaded once (progress bar, md5 verified) and cached there. Offline, a clear
    RuntimeError says what to do.
    """
    checksums = MNIST_FILES if checksums is None else checksums
    arrays = {}
    for name in MNIST_FILES:
        path = _fetch(root, name, checksums.get(name), mirrors, download)
        arrays[name] = read_idx(path)
    out = []
    for split in ("train", "t10k"):
        images = arrays[f"{split}-images-idx3-ubyte.gz"]
        labels = arrays[f"{split}-labels-idx1-ubyte.gz"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"MNIST {split} files disagree: images {images.shape}, "
                             f"labels {labels.shape}")
        x = (images.astype(np.float32) / 255.0)[:, None]
        if size is not None and size != x.shape[-1]:
            x = np.clip(resize_images(x, size, "bilinear"), 0, 1)
        out.append((x, labels.astype(np.int64)))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Synthetic sets
# ---------------------------------------------------------------------------------------------
def make_shapes(n: int, size: int = 32, seed: int | None = 0, noise: float = 0.0):
    """Images with one filled shape each, for autoencoders and segmentation.

    Returns (images, masks, labels): images (n, 1, size, size) float32 in [0, 1] (plus optional
    Gaussian noise, clipped), masks (n, 1, size, size) float32 in {0, 1} (the shape's pixels),
    labels int64 in {0: square, 1: disk, 2: triangle}.
    """
    if size < 8:
        raise ValueError(f"size must be at least 8, got {size}")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    masks = np.zeros((n, 1, size, size), dtype=np.float32)
    labels = rng.integers(0, 3, n).astype(np.int64)
    for k in range(n):
        r = rng.uniform(size / 8, size / 4)
        cy, cx = rng.uniform(r, size - r, 2)
        if labels[k] == 0:
            m = (np.abs(yy - cy) <= r) & (np.abs(xx - cx) <= r)
        elif labels[k] == 1:
            m = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:  # a triangle pointing up: below the apex, inside two slanted edges
            m = (yy >= cy - r) & (yy <= cy + r) & (np.abs(xx - cx) <= (yy - (cy - r)) / 2)
        masks[k, 0] = m
    images = masks * rng.uniform(0.5, 1.0, (n, 1, 1, 1)).astype(np.float32)
    if noise:
        images = np.clip(images + rng.normal(0, noise, images.shape), 0, 1).astype(np.float32)
    return images, masks, labels


def make_adding_problem(n: int, length: int = 50, seed: int | None = 0):
    """The adding problem (Hochreiter & Schmidhuber) for RNNs: x (n, length, 2) where channel 0
    holds random numbers in [0, 1) and channel 1 marks exactly two positions; y (n, 1) is the
    sum of the two marked numbers. Always predicting 1 gives an MSE of about 0.167."""
    if length < 2:
        raise ValueError(f"length must be at least 2, got {length}")
    rng = np.random.default_rng(seed)
    x = np.zeros((n, length, 2), dtype=np.float32)
    x[:, :, 0] = rng.random((n, length))
    for k in range(n):
        i, j = rng.choice(length, 2, replace=False)
        x[k, [i, j], 1] = 1
    y = (x[:, :, 0] * x[:, :, 1]).sum(axis=1, keepdims=True).astype(np.float32)
    return x, y


def make_copy_task(n: int, length: int = 10, n_symbols: int = 8, delay: int = 10,
                   seed: int | None = 0):
    """The copy (memory) task: remember `length` symbols, wait `delay` steps, repeat them.

    x: (n, length + delay + length) int64 tokens: the symbols 1…n_symbols, then blanks (0),
    with a recall marker (n_symbols + 1) at the last blank; y: same length, blanks (0) except
    the final `length` positions, which hold the symbols. Use an Embedding of n_symbols + 2.
    """
    rng = np.random.default_rng(seed)
    total = 2 * length + delay
    symbols = rng.integers(1, n_symbols + 1, (n, length))
    x = np.zeros((n, total), dtype=np.int64)
    y = np.zeros((n, total), dtype=np.int64)
    x[:, :length] = symbols
    x[:, length + delay - 1] = n_symbols + 1
    y[:, -length:] = symbols
    return x, y


def make_spirals(n: int, classes: int = 3, noise: float = 0.2, seed: int | None = 0):
    """Points on interleaved spiral arms (cs231n's toy set): x (n, 2) float32, y (n,) int64."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    r = rng.random(n)
    theta = y * 2 * np.pi / classes + r * 4 + rng.normal(0, noise, n)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1).astype(np.float32)
    return x, y.astype(np.int64)
