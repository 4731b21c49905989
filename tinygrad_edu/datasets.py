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


SHAPE_CLASSES = ("background", "square", "disk", "triangle")


def _shape_mask(kind: int, cy: float, cx: float, r: float, yy, xx):
    """Pixels of a square (0), disk (1) or upward triangle (2) of half-size r around (cy, cx)."""
    if kind == 0:
        return (np.abs(yy - cy) <= r) & (np.abs(xx - cx) <= r)
    if kind == 1:
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    return (yy >= cy - r) & (yy <= cy + r) & (np.abs(xx - cx) <= (yy - (cy - r)) / 2)


def _grow(m: np.ndarray) -> np.ndarray:
    """m with its 8-neighbours added (a one-pixel dilation)."""
    p = np.pad(m, 1)
    H, W = m.shape
    return np.any([p[1 + dy:1 + dy + H, 1 + dx:1 + dx + W] for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)


def make_segmentation_shapes(n: int, size: int = 32, max_shapes: int = 3, seed: int | None = 0,
                             noise: float = 0.0, region=None):
    """Images of 1 … max_shapes filled shapes that do not touch, with per-pixel labels, for
    segmentation (tutorial 11).

    region: (top, left, bottom, right) in pixels, the part of the image the shapes lie in
        (default the whole image; e.g. (0, 0, size, size // 2) for the left half).
    Returns (images, masks, boxes): images (n, 1, size, size) float32 in [0, 1], each shape of
    its own brightness in [0.5, 1] (plus optional Gaussian noise, clipped); masks (n, size, size)
    int64 class per pixel, SHAPE_CLASSES = 0 background, 1 square, 2 disk, 3 triangle;
    boxes: a list of n int64 arrays (k, 5), one row [class, top, left, bottom, right] per shape
    (bottom and right exclusive).

    >>> images, masks, boxes = make_segmentation_shapes(4, size=24, seed=1)
    >>> images.shape, masks.shape, masks.dtype, sorted(set(masks.ravel().tolist())) <= [0, 1, 2, 3]
    ((4, 1, 24, 24), (4, 24, 24), dtype('int64'), True)
    >>> c, t, l, b, r = boxes[0][0]
    >>> bool((masks[0, t:b, l:r] == c).any()) and not (masks[0] == c)[:t].any()
    True
    """
    if size < 8:
        raise ValueError(f"size must be at least 8, got {size}")
    if max_shapes < 1:
        raise ValueError(f"max_shapes must be at least 1, got {max_shapes}")
    top, left, bottom, right = (0, 0, size, size) if region is None else region
    if not (0 <= top < bottom <= size and 0 <= left < right <= size) or min(bottom - top, right - left) < 6:
        raise ValueError(f"region {region} must be (top, left, bottom, right) inside a {size}×{size} "
                         "image, at least 6 pixels each way")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    images = np.zeros((n, 1, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    boxes = []
    r_max = min(size / 4, (bottom - top) / 2 - 0.5, (right - left) / 2 - 0.5)
    for k in range(n):
        taken = np.zeros((size, size), dtype=bool)   # shapes and a one-pixel border around them
        rows = []
        for _ in range(rng.integers(1, max_shapes + 1)):
            for _attempt in range(20):                # find a free place, or give up on this shape
                kind = int(rng.integers(0, 3))
                r = rng.uniform(min(size / 10, r_max), r_max)
                cy = rng.uniform(top + r, bottom - 1 - r)
                cx = rng.uniform(left + r, right - 1 - r)
                m = _shape_mask(kind, cy, cx, r, yy, xx)
                if m.any() and not (m & taken).any():
                    break
            else:
                continue
            images[k, 0][m] = rng.uniform(0.5, 1.0)
            masks[k][m] = kind + 1
            taken |= _grow(m)
            ys, xs = np.nonzero(m)
            rows.append([kind + 1, ys.min(), xs.min(), ys.max() + 1, xs.max() + 1])
        boxes.append(np.array(rows, dtype=np.int64).reshape(-1, 5))
    if noise:
        images = np.clip(images + rng.normal(0, noise, images.shape), 0, 1).astype(np.float32)
    return images, masks, boxes


def digits_on_canvas(images: np.ndarray, labels: np.ndarray, canvas: int = 48, seed: int | None = 0,
                     threshold: float = 0.25):
    """Each digit pasted at a random position of a larger blank canvas, with its box and mask
    (tutorial 10's localisation test; a digit segmentation set).

    images (n, 1, h, w) in [0, 1] (e.g. from load_digits), labels (n,) int.
    Returns (canvases, masks, boxes): canvases (n, 1, canvas, canvas) float32; masks
    (n, canvas, canvas) int64, 1 + the digit's label where its ink is above `threshold`, else 0;
    boxes (n, 4) int64 [top, left, bottom, right] of that ink (bottom and right exclusive).

    >>> tiles = np.zeros((2, 1, 8, 8), np.float32); tiles[:, 0, 2:6, 3:5] = 1
    >>> canvases, masks, boxes = digits_on_canvas(tiles, np.array([3, 7]), canvas=20, seed=0)
    >>> canvases.shape, int(masks.max()), [int(b) - int(t) for t, b in zip(boxes[:, 0], boxes[:, 2])]
    ((2, 1, 20, 20), 8, [4, 4])
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must be (n, 1, h, w), got shape {images.shape}")
    n, _, h, w = images.shape
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} images")
    if canvas < max(h, w):
        raise ValueError(f"canvas {canvas} is smaller than the {h}×{w} images")
    rng = np.random.default_rng(seed)
    canvases = np.zeros((n, 1, canvas, canvas), dtype=np.float32)
    masks = np.zeros((n, canvas, canvas), dtype=np.int64)
    boxes = np.zeros((n, 4), dtype=np.int64)
    for k in range(n):
        y, x = rng.integers(0, canvas - h + 1), rng.integers(0, canvas - w + 1)
        canvases[k, 0, y:y + h, x:x + w] = images[k, 0]
        ink = images[k, 0] > threshold
        masks[k, y:y + h, x:x + w][ink] = int(labels[k]) + 1
        ys, xs = np.nonzero(ink) if ink.any() else (np.array([0, h - 1]), np.array([0, w - 1]))
        boxes[k] = [y + ys.min(), x + xs.min(), y + ys.max() + 1, x + xs.max() + 1]
    return canvases, masks, boxes


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
