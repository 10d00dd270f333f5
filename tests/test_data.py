"""Tests for keras_ae.data.

The loaders of MNIST and Fashion-MNIST are exercised on every machine with
small fixtures written, in the test, in the exact official file formats
(``mnist.npz``: an ``.npz`` of ``uint8`` arrays ``x_train``, ``y_train``,
``x_test``, ``y_test``; Fashion-MNIST: the four gzipped IDX files with their
official names and magic numbers) into a temporary ``KERAS_HOME``.
``mnist.npz`` is checked against the SHA-256 digest of the official file, so a
fixture is refused as such (tested); the tests that read a fixture through the
loader accept its digest by patching the expected one for the test only.

The tests that need the official files themselves (real sizes and class
counts, the official digest, agreement with ``keras.datasets``) read them from
the shared data directory (``../shared/data`` next to the repository, or the
directory in ``$KERAS_AE_SHARED_DATA``) and are skipped when it is absent.
Every test runs with Python sockets disabled, so a code path that tried to
download would fail at once instead of waiting on the network.
"""

import gzip
import hashlib
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from _shared import SHARED

from keras_ae import data

FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
# Class counts of the official MNIST splits.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
# Magic numbers of the IDX files (unsigned bytes, 1 and 3 dimensions).
IDX_LABELS, IDX_IMAGES = 2049, 2051
# Sizes of the fixtures (the official files have 60000 and 10000 examples).
FIXTURE_TRAIN, FIXTURE_TEST = 300, 200


HAVE_MNIST = (SHARED / "mnist.npz").is_file()
HAVE_FASHION = all((SHARED / "fashion-mnist" / f).is_file() for f in FASHION_FILES)
needs_mnist = pytest.mark.skipif(
    not HAVE_MNIST,
    reason=f"official mnist.npz not found at {SHARED / 'mnist.npz'} "
    "(set KERAS_AE_SHARED_DATA to the directory holding it)",
)
needs_fashion = pytest.mark.skipif(
    not HAVE_FASHION,
    reason=f"official Fashion-MNIST files not found in {SHARED / 'fashion-mnist'} "
    "(set KERAS_AE_SHARED_DATA to the directory holding fashion-mnist/)",
)


# ------------------------------------------------- official-format writers


def _fake_images(n, rng):
    """uint8 28x28 images: background 0, saturated 255 and grey levels between.

    Exact 0s and 255s (0.0 and 1.0 after scaling) make binarization
    checkable; random grey levels make every image unique.
    """
    kind = rng.random((n, 28, 28))
    grey = rng.integers(1, 255, size=(n, 28, 28))
    return np.where(kind < 0.5, 0, np.where(kind < 0.7, 255, grey)).astype(np.uint8)


def _fake_labels(n, rng):
    """uint8 labels 0..9, every class present, in a random order."""
    return rng.permutation(np.arange(n) % 10).astype(np.uint8)


def fake_mnist(seed):
    """Returns ``{"x_train", "y_train", "x_test", "y_test"}`` as MNIST stores them."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": _fake_images(FIXTURE_TRAIN, rng),
        "y_train": _fake_labels(FIXTURE_TRAIN, rng),
        "x_test": _fake_images(FIXTURE_TEST, rng),
        "y_test": _fake_labels(FIXTURE_TEST, rng),
    }


def write_mnist_npz(path, arrays):
    """Writes ``arrays`` as the official ``mnist.npz`` is written.

    The official file is a deflate-compressed ``.npz`` (``np.savez_compressed``)
    holding ``x_test``, ``x_train``, ``y_train``, ``y_test`` in that order,
    all ``uint8``, images ``(n, 28, 28)`` and labels ``(n,)``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    order = ("x_test", "x_train", "y_train", "y_test")
    with open(path, "wb") as f:  # a file object: savez would append ".npz" to a name
        np.savez_compressed(f, **{key: arrays[key] for key in order})
    return path


def write_idx(path, array, magic):
    """Writes a gzipped IDX file of unsigned bytes, as Fashion-MNIST ships them.

    Header: big-endian ``uint32`` magic number (2049 for labels, 2051 for
    images), then the size of each dimension; then the bytes, row-major.
    """
    array = np.asarray(array, dtype=np.uint8)
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())
    return path


def write_fashion(directory, arrays):
    """Writes the four official Fashion-MNIST files into ``directory``."""
    for name, key, magic in (
        ("train-labels-idx1-ubyte.gz", "y_train", IDX_LABELS),
        ("train-images-idx3-ubyte.gz", "x_train", IDX_IMAGES),
        ("t10k-labels-idx1-ubyte.gz", "y_test", IDX_LABELS),
        ("t10k-images-idx3-ubyte.gz", "x_test", IDX_IMAGES),
    ):
        write_idx(directory / name, arrays[key], magic)


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def _offline(no_network):
    """Every test of this module runs without network access (tests/conftest.py)."""


@pytest.fixture(scope="module")
def fixture_files(tmp_path_factory):
    """A Keras home holding fixture mnist.npz and Fashion-MNIST files.

    Returns ``(home, mnist_arrays, fashion_arrays)``, the arrays as stored.
    """
    home = tmp_path_factory.mktemp("fixture_keras_home")
    mnist = fake_mnist(seed=0)
    fashion = fake_mnist(seed=1)
    write_mnist_npz(home / "datasets" / "mnist.npz", mnist)
    write_fashion(home / "datasets" / "fashion-mnist", fashion)
    return home, mnist, fashion


@pytest.fixture
def fixture_home(fixture_files, monkeypatch):
    """Points KERAS_HOME at the fixtures; the fixture mnist.npz passes the digest check.

    Only the expected digest is patched, for this test: the check itself
    still runs on every load (see test_fixture_mnist_fails_the_official_checksum).
    """
    home, _, _ = fixture_files
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(data, "_MNIST_SHA256", _sha256(home / "datasets" / "mnist.npz"))
    return home


@pytest.fixture
def fixture_mnist(fixture_files):
    return fixture_files[1]


@pytest.fixture
def fixture_fashion(fixture_files):
    return fixture_files[2]


@pytest.fixture(scope="module")
def seeded_home(tmp_path_factory):
    """A Keras home whose datasets/ links to the shared official files."""
    home = tmp_path_factory.mktemp("keras_home")
    datasets = home / "datasets"
    (datasets / "fashion-mnist").mkdir(parents=True)
    if HAVE_MNIST:
        (datasets / "mnist.npz").symlink_to(SHARED / "mnist.npz")
    if HAVE_FASHION:
        for name in FASHION_FILES:
            (datasets / "fashion-mnist" / name).symlink_to(SHARED / "fashion-mnist" / name)
    return home


@pytest.fixture
def keras_home(seeded_home, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(seeded_home))
    return seeded_home


@pytest.fixture(scope="module")
def mnist_full(seeded_home):
    if not HAVE_MNIST:
        pytest.skip("official mnist.npz not available")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_HOME", str(seeded_home))
        return data.load("mnist")


def _row_index(images):
    """Maps each image's bytes to its position (images as uint8 0..255)."""
    as_bytes = np.rint(np.asarray(images) * 255).astype(np.uint8).reshape(len(images), -1)
    return {row.tobytes(): i for i, row in enumerate(as_bytes)}


def _collect(dataset):
    """One pass over a dataset of pairs -> (list of first, list of second)."""
    firsts, seconds = [], []
    for a, b in dataset:
        firsts.append(a.numpy())
        seconds.append(b.numpy())
    return firsts, seconds


def _as_unit(raw):
    """uint8 images as stored -> what `load` should return (without the channel axis)."""
    return raw.astype(np.float32) / np.float32(255)


# ------------------------------------------------------------- registry


def test_dataset_names():
    assert data.DATASETS == ("binarized_mnist", "digits", "fashion_mnist", "mnist")
    assert data.list_datasets() == ["binarized_mnist", "digits", "fashion_mnist", "mnist"]


# --------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_range():
    (x_train, y_train), (x_test, y_test) = data.load("digits")
    assert x_train.shape == (1437, 8, 8, 1)
    assert x_test.shape == (360, 8, 8, 1)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    for x in (x_train, x_test):
        assert x.min() == 0.0 and x.max() == 1.0
        # 0..16 scaled by 1/16: every value is a multiple of 1/16.
        np.testing.assert_array_equal(x * 16, np.rint(x * 16))


def test_digits_keeps_every_image_and_stratifies():
    from sklearn.datasets import load_digits

    reference = load_digits()
    (x_train, y_train), (x_test, y_test) = data.load("digits")
    # Together the two splits are exactly the bundled images (as 0..16 ints).
    ours = np.rint(np.concatenate([x_train, x_test]).reshape(-1, 64) * 16).astype(int)
    ours = np.concatenate([ours, np.concatenate([y_train, y_test])[:, None]], axis=1)
    theirs = np.concatenate([reference.data.astype(int), reference.target[:, None]], axis=1)
    np.testing.assert_array_equal(np.unique(ours, axis=0), np.unique(theirs, axis=0))
    assert len(np.unique(ours, axis=0)) == len(np.unique(theirs, axis=0))

    total = np.bincount(reference.target, minlength=10)
    train_counts = np.bincount(y_train, minlength=10)
    test_counts = np.bincount(y_test, minlength=10)
    np.testing.assert_array_equal(train_counts + test_counts, total)
    # Stratified 80/20: each class is within one example of 20% in the test set.
    assert np.all(np.abs(test_counts - 0.2 * total) <= 1)


def test_digits_split_is_deterministic_per_seed():
    (a_train, a_ytrain), (a_test, _) = data.load("digits", seed=3)
    (b_train, b_ytrain), (b_test, _) = data.load("digits", seed=3)
    (c_train, _), (c_test, _) = data.load("digits", seed=4)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_ytrain, b_ytrain)
    np.testing.assert_array_equal(a_test, b_test)
    assert not np.array_equal(a_test, c_test)
    assert not np.array_equal(a_train, c_train)


def test_flatten():
    (x_train, y_train), (x_test, _) = data.load("digits", flatten=True)
    (img_train, img_ytrain), (img_test, _) = data.load("digits")
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert x_train.dtype == np.float32
    np.testing.assert_array_equal(x_train, img_train.reshape(1437, 64))
    np.testing.assert_array_equal(x_test, img_test.reshape(360, 64))
    np.testing.assert_array_equal(y_train, img_ytrain)


def test_limit_takes_a_seeded_subset_of_each_split():
    (full_x, full_y), (full_xt, _) = data.load("digits", seed=0)
    (x, y), (xt, yt) = data.load("digits", limit=100, seed=0)
    assert x.shape == (100, 8, 8, 1) and xt.shape == (100, 8, 8, 1)
    assert y.shape == (100,) and yt.shape == (100,)

    # Every kept example is an example of the full split, with its own label.
    rows = {(row.tobytes(), label) for row, label in zip(full_x, full_y)}
    assert all((row.tobytes(), label) in rows for row, label in zip(x, y))
    test_rows = {row.tobytes() for row in full_xt}
    assert all(row.tobytes() in test_rows for row in xt)
    assert len({row.tobytes() for row in x}) > 90  # a spread, not one repeated row

    (x2, y2), (xt2, _) = data.load("digits", limit=100, seed=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(xt, xt2)
    (x3, _), _ = data.load("digits", limit=100, seed=1)
    assert not np.array_equal(x, x3)


def test_limit_larger_than_a_split_keeps_it_whole():
    (x, y), (xt, yt) = data.load("digits", limit=400)
    assert x.shape[0] == 400 and xt.shape[0] == 360
    (_, _), (full_xt, full_yt) = data.load("digits")
    np.testing.assert_array_equal(xt, full_xt)
    np.testing.assert_array_equal(yt, full_yt)


def test_binarize_gives_a_fixed_threshold():
    (x, _), (xt, _) = data.load("digits", binarize=0.5)
    (ref, _), (ref_t, _) = data.load("digits")
    assert x.dtype == np.float32
    assert set(np.unique(x)) == {0.0, 1.0}
    assert set(np.unique(xt)) == {0.0, 1.0}
    np.testing.assert_array_equal(x, (ref > 0.5).astype(np.float32))
    np.testing.assert_array_equal(xt, (ref_t > 0.5).astype(np.float32))


# --------------------------------------------------------------- errors


def test_unknown_name_lists_choices_and_suggests():
    expected = (
        "Invalid value for 'name': expected one of ['binarized_mnist', 'digits', "
        "'fashion_mnist', 'mnist']. Received: name='mnsit'. Did you mean 'mnist'?"
    )
    with pytest.raises(ValueError) as info:
        data.load("mnsit")
    assert str(info.value) == expected

    with pytest.raises(ValueError, match="Did you mean 'fashion_mnist'"):
        data.load("fashion-mnist")
    with pytest.raises(ValueError) as info:
        data.load("cifar10")
    assert "Received: name='cifar10'" in str(info.value)
    assert "Did you mean" not in str(info.value)


_BAD_ARGUMENTS = {
    "limit": ("a positive integer or None", [0, -5, 2.5, "10", True]),
    "binarize": ("a number in (0, 1) or None", [0, 0.0, 1, 1.0, 1.5, -0.2, "0.5", True, float("nan")]),
    "seed": ("a non-negative integer", [-1, 1.5, None]),
}


@pytest.mark.parametrize(
    "name, value",
    [(name, value) for name, (_, values) in _BAD_ARGUMENTS.items() for value in values],
)
def test_bad_argument(name, value):
    expected = _BAD_ARGUMENTS[name][0]
    message = f"Invalid value for '{name}': expected {expected}. Received: {name}={value!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        data.load("digits", **{name: value})


def test_binarize_is_refused_for_binarized_mnist(tmp_path, monkeypatch):
    # Argument errors come before any file access (this home is empty).
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ValueError, match=r"Invalid value for 'binarize': expected None when"):
        data.load("binarized_mnist", binarize=0.5)


def test_bad_flatten():
    with pytest.raises(ValueError, match=re.escape("Received: flatten='yes'")):
        data.load("digits", flatten="yes")


# ---------------------------------------------------- missing/corrupt files


def _assert_fast(start, what):
    elapsed = time.monotonic() - start
    assert elapsed < 5.0, f"{what} took {elapsed:.1f}s; it should fail without waiting"


@pytest.mark.parametrize("name", ["mnist", "binarized_mnist"])
def test_missing_mnist_fails_fast_with_the_expected_path(name, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as info:
        data.load(name)
    _assert_fast(start, "missing mnist.npz")
    message = str(info.value)
    assert str(tmp_path / "datasets" / "mnist.npz") in message
    assert "Copy the official mnist.npz" in message
    assert list(tmp_path.iterdir()) == []  # nothing written into the cache


def test_missing_fashion_mnist_names_directory_and_files(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as info:
        data.load("fashion_mnist")
    _assert_fast(start, "missing Fashion-MNIST")
    message = str(info.value)
    assert str(tmp_path / "datasets" / "fashion-mnist") + os.sep in message
    for name in FASHION_FILES:
        assert name in message
    assert list(tmp_path.iterdir()) == []


def test_partially_present_fashion_mnist_lists_what_is_missing(tmp_path, monkeypatch):
    directory = tmp_path / "datasets" / "fashion-mnist"
    directory.mkdir(parents=True)
    (directory / "train-labels-idx1-ubyte.gz").write_bytes(b"")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        data.load("fashion_mnist")
    missing_part = str(info.value).split("missing:")[1]
    assert "train-labels-idx1-ubyte.gz" not in missing_part
    assert "t10k-images-idx3-ubyte.gz" in missing_part


def test_default_cache_is_home_dot_keras(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        data.load("mnist")
    assert str(tmp_path / ".keras" / "datasets" / "mnist.npz") in str(info.value)


def test_corrupt_mnist_is_reported_without_download(tmp_path, monkeypatch):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"not an npz file")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    start = time.monotonic()
    with pytest.raises(OSError, match="is not the official mnist.npz") as info:
        data.load("mnist")
    _assert_fast(start, "corrupt mnist.npz")
    assert str(tmp_path / "datasets" / "mnist.npz") in str(info.value)


def test_corrupt_fashion_file_is_reported(tmp_path, monkeypatch):
    import gzip

    directory = tmp_path / "datasets" / "fashion-mnist"
    directory.mkdir(parents=True)
    for name in FASHION_FILES:
        with gzip.open(directory / name, "wb") as f:
            f.write(b"\x00" * 20)  # valid gzip, wrong IDX header
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(OSError, match="is not a valid IDX file"):
        data.load("fashion_mnist")


def test_cache_dir_is_read_on_every_call(fixture_home, tmp_path, monkeypatch):
    (x, _), _ = data.load("mnist", limit=10)
    assert x.shape == (10, 28, 28, 1)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # now an empty cache
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path))):
        data.load("mnist", limit=10)


# ------------------------------------------------- MNIST checksum (fixtures)


@pytest.mark.parametrize("name", ["mnist", "binarized_mnist"])
@pytest.mark.parametrize("download", [False, True])
def test_fixture_mnist_fails_the_official_checksum(name, download, fixture_files, monkeypatch):
    """A well-formed mnist.npz that is not the official file is refused, never replaced."""
    home, _, _ = fixture_files
    path = home / "datasets" / "mnist.npz"
    monkeypatch.setenv("KERAS_HOME", str(home))
    attempts = []
    monkeypatch.setattr(data, "_download", lambda p: attempts.append(p) or False)
    before = path.read_bytes()
    digest = _sha256(path)
    with pytest.raises(OSError) as info:
        data.load(name, download=download)
    assert str(info.value).startswith(
        f"The file {path} is not the official mnist.npz: its SHA-256 is {digest}, "
        f"expected {data._MNIST_SHA256}. Replace it with the official file."
    )
    assert attempts == []  # an existing file is never downloaded again
    assert path.read_bytes() == before
    # The advice fits: the file must be moved aside before a download can help.
    assert "never replaces a cached file: move this one aside" in str(info.value)


def test_official_digest_is_the_one_keras_checks():
    import inspect

    from keras.datasets import mnist

    assert data._MNIST_SHA256 in inspect.getsource(mnist.load_data)


# --------------------------------------------------------- MNIST (fixtures)


def test_mnist_reads_the_official_format(fixture_home, fixture_mnist):
    (x_train, y_train), (x_test, y_test) = data.load("mnist")
    assert x_train.shape == (FIXTURE_TRAIN, 28, 28, 1)
    assert x_test.shape == (FIXTURE_TEST, 28, 28, 1)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    # Same images, labels and order as stored, scaled by 1/255.
    np.testing.assert_array_equal(x_train[..., 0], _as_unit(fixture_mnist["x_train"]))
    np.testing.assert_array_equal(x_test[..., 0], _as_unit(fixture_mnist["x_test"]))
    np.testing.assert_array_equal(y_train, fixture_mnist["y_train"])
    np.testing.assert_array_equal(y_test, fixture_mnist["y_test"])
    assert x_train.min() == 0.0 and x_train.max() == 1.0

    (flat, _), (flat_test, _) = data.load("mnist", flatten=True)
    np.testing.assert_array_equal(flat, x_train.reshape(FIXTURE_TRAIN, 784))
    np.testing.assert_array_equal(flat_test, x_test.reshape(FIXTURE_TEST, 784))

    (x_bin, _), _ = data.load("mnist", binarize=0.5)
    np.testing.assert_array_equal(x_bin, (x_train > 0.5).astype(np.float32))


def test_mnist_limit_flatten_and_seed(fixture_home, fixture_mnist):
    (x, y), (xt, yt) = data.load("mnist", limit=50, flatten=True, seed=7)
    assert x.shape == (50, 784) and xt.shape == (50, 784)
    assert y.shape == (50,) and yt.shape == (50,)
    # Each kept image is a stored image with its own label, in the stored order.
    for kept, labels, split in ((x, y, "train"), (xt, yt, "test")):
        index = _row_index(_as_unit(fixture_mnist[f"x_{split}"]))
        positions = np.array([index[row.tobytes()] for row in np.rint(kept * 255).astype(np.uint8)])
        np.testing.assert_array_equal(fixture_mnist[f"y_{split}"][positions], labels)
        assert np.all(np.diff(positions) > 0)  # original order, no repeats

    (x2, _), (xt2, _) = data.load("mnist", limit=50, flatten=True, seed=7)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(xt, xt2)
    (x3, _), _ = data.load("mnist", limit=50, flatten=True, seed=8)
    assert not np.array_equal(x, x3)


# ------------------------------------------------ MNIST (official file)


@needs_mnist
def test_mnist_full(mnist_full):
    (x_train, y_train), (x_test, y_test) = mnist_full
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert x_test.min() == 0.0 and x_test.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y_train), MNIST_TRAIN_COUNTS)
    np.testing.assert_array_equal(np.bincount(y_test), MNIST_TEST_COUNTS)


@needs_mnist
def test_mnist_matches_the_keras_loader(keras_home, monkeypatch, mnist_full):
    """Cross-check the file reading against keras.datasets on the same file."""
    import keras

    from keras_ae._compat import keras_config_module

    config = keras_config_module()

    monkeypatch.setattr(config, "_KERAS_DIR", str(keras_home))
    (kx, ky), (kxt, kyt) = keras.datasets.mnist.load_data()
    (x, y), (xt, yt) = mnist_full
    # Same images, labels and order, scaled by 1/255.
    np.testing.assert_array_equal(x[..., 0], _as_unit(kx))
    np.testing.assert_array_equal(y, ky)
    np.testing.assert_array_equal(xt[..., 0], _as_unit(kxt))
    np.testing.assert_array_equal(yt, kyt)


# ------------------------------------------------ Fashion-MNIST (fixtures)


def test_fashion_mnist_reads_the_official_format_as_keras_does(fixture_home, fixture_fashion, monkeypatch):
    import keras

    from keras_ae._compat import keras_config_module

    config = keras_config_module()

    (x, y), (xt, yt) = data.load("fashion_mnist")
    assert x.shape == (FIXTURE_TRAIN, 28, 28, 1) and xt.shape == (FIXTURE_TEST, 28, 28, 1)
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[..., 0], _as_unit(fixture_fashion["x_train"]))
    np.testing.assert_array_equal(y, fixture_fashion["y_train"])
    np.testing.assert_array_equal(xt[..., 0], _as_unit(fixture_fashion["x_test"]))
    np.testing.assert_array_equal(yt, fixture_fashion["y_test"])

    # keras.datasets reads the same files (it checks no digest for these).
    monkeypatch.setattr(config, "_KERAS_DIR", str(fixture_home))
    (kx, ky), (kxt, kyt) = keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(x[..., 0], _as_unit(kx))
    np.testing.assert_array_equal(y, ky)
    np.testing.assert_array_equal(xt[..., 0], _as_unit(kxt))
    np.testing.assert_array_equal(yt, kyt)


def test_fashion_mnist_limit(fixture_home):
    (x, y), (xt, yt) = data.load("fashion_mnist", limit=100, flatten=True, binarize=0.3)
    assert x.shape == (100, 784) and xt.shape == (100, 784)
    assert y.shape == (100,) and yt.shape == (100,)
    assert set(np.unique(x)) == {0.0, 1.0}
    assert set(np.unique(y)) == set(range(10))


def _fashion_copy(fixture_files, tmp_path, monkeypatch):
    """A writable copy of the fixture Fashion-MNIST files; KERAS_HOME points at it."""
    home, _, fashion = fixture_files
    directory = tmp_path / "datasets" / "fashion-mnist"
    write_fashion(directory, fashion)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return directory, fashion


def test_fashion_labels_and_images_that_disagree_are_reported(fixture_files, tmp_path, monkeypatch):
    directory, fashion = _fashion_copy(fixture_files, tmp_path, monkeypatch)
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", fashion["y_test"][:-1], IDX_LABELS)
    with pytest.raises(OSError) as info:
        data.load("fashion_mnist")
    assert str(info.value) == (
        f"Fashion-MNIST files in {directory} disagree: {FIXTURE_TEST} t10k images but "
        f"{FIXTURE_TEST - 1} t10k labels. Replace them with the official files."
    )


@pytest.mark.parametrize(
    "name, content, kind",
    [
        # Labels where the images belong: right layout, wrong magic number.
        ("train-images-idx3-ubyte.gz", "labels", "images"),
        # Images whose header announces one more image than the file holds.
        ("t10k-images-idx3-ubyte.gz", "truncated", "images"),
        # A labels file with the images' magic number.
        ("train-labels-idx1-ubyte.gz", "wrong magic", "labels"),
    ],
)
def test_fashion_file_with_a_bad_header_is_reported(name, content, kind, fixture_files, tmp_path, monkeypatch):
    directory, fashion = _fashion_copy(fixture_files, tmp_path, monkeypatch)
    path = directory / name
    if content == "labels":
        write_idx(path, fashion["y_train"], IDX_LABELS)
    elif content == "truncated":
        images = fashion["x_test"]
        header = np.array([IDX_IMAGES, len(images) + 1, 28, 28], dtype=">u4").tobytes()
        with gzip.open(path, "wb") as f:
            f.write(header + images.tobytes())
    else:
        write_idx(path, fashion["y_train"], IDX_IMAGES)
    with pytest.raises(OSError) as info:
        data.load("fashion_mnist")
    assert str(info.value) == (
        f"{path} is not a valid IDX file of {kind} (wrong header or size). "
        "Replace it with the official file."
    )


def test_fashion_file_that_is_not_gzip_is_reported(fixture_files, tmp_path, monkeypatch):
    directory, fashion = _fashion_copy(fixture_files, tmp_path, monkeypatch)
    path = directory / "train-labels-idx1-ubyte.gz"
    # The uncompressed IDX bytes, as an unpacked download would leave them.
    path.write_bytes(np.array([IDX_LABELS, FIXTURE_TRAIN], dtype=">u4").tobytes()
                     + fashion["y_train"].tobytes())
    with pytest.raises(OSError, match=re.escape(f"Could not read {path} as a gzip file")):
        data.load("fashion_mnist")


# ------------------------------------------ Fashion-MNIST (official files)


@needs_fashion
def test_fashion_mnist_full_and_matches_keras(keras_home, monkeypatch):
    import keras

    from keras_ae._compat import keras_config_module

    config = keras_config_module()

    (x, y), (xt, yt) = data.load("fashion_mnist")
    assert x.shape == (60000, 28, 28, 1) and xt.shape == (10000, 28, 28, 1)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0 and xt.min() == 0.0 and xt.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(yt), [1000] * 10)

    monkeypatch.setattr(config, "_KERAS_DIR", str(keras_home))
    (kx, ky), (kxt, kyt) = keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(x[..., 0], _as_unit(kx))
    np.testing.assert_array_equal(y, ky)
    np.testing.assert_array_equal(xt[..., 0], _as_unit(kxt))
    np.testing.assert_array_equal(yt, kyt)


# ---------------------------------------------- binarized MNIST (fixtures)


def test_binarized_mnist_train_is_intensities_and_test_is_fixed(fixture_home):
    (x, y), (xt, yt) = data.load("binarized_mnist", limit=150, seed=5)
    (mx, my), (mxt, myt) = data.load("mnist", limit=150, seed=5)
    # Training images: the MNIST intensities themselves.
    np.testing.assert_array_equal(x, mx)
    np.testing.assert_array_equal(y, my)
    np.testing.assert_array_equal(yt, myt)
    assert len(np.unique(x)) > 2

    # Test images: one Bernoulli draw of the intensities.
    assert xt.shape == (150, 28, 28, 1) and xt.dtype == np.float32
    assert set(np.unique(xt)) == {0.0, 1.0}
    assert np.all(xt[mxt == 0.0] == 0.0)
    assert np.all(xt[mxt == 1.0] == 1.0)
    assert abs(xt.mean() - mxt.mean()) < 0.005  # 117 600 pixels
    middle = (mxt > 0.3) & (mxt < 0.7)
    assert abs(xt[middle].mean() - mxt[middle].mean()) < 0.01

    # Fixed for a seed.
    (_, _), (xt_again, _) = data.load("binarized_mnist", limit=150, seed=5)
    np.testing.assert_array_equal(xt, xt_again)


def test_binarized_mnist_test_set_is_subset_stable_and_seeded(fixture_home):
    (_, _), (full_bin, full_y) = data.load("binarized_mnist", seed=2)
    (_, _), (full_int, _) = data.load("mnist", seed=2)
    assert full_bin.shape == (FIXTURE_TEST, 28, 28, 1)
    (_, _), (part_bin, part_y) = data.load("binarized_mnist", limit=40, seed=2)
    (_, _), (part_int, _) = data.load("mnist", limit=40, seed=2)
    index = _row_index(full_int)
    positions = np.array([index[row.tobytes()] for row in np.rint(part_int * 255).astype(np.uint8)])
    np.testing.assert_array_equal(part_bin, full_bin[positions])
    np.testing.assert_array_equal(part_y, full_y[positions])

    # Another seed binarizes the same images differently (labels unchanged).
    (_, _), (other_bin, other_y) = data.load("binarized_mnist", seed=3)
    np.testing.assert_array_equal(other_y, full_y)
    uncertain = (full_int > 0.2) & (full_int < 0.8)
    disagree = (other_bin != full_bin)[uncertain].mean()
    assert 0.3 < disagree < 0.6  # ~2p(1-p) for independent draws


# ---------------------------------------------------- binarized_dataset


def _coded_images(n, fill=0.5):
    """Images whose first 8 pixels spell the example index in exact 0/1 bits.

    Pixels that are exactly 0 or 1 survive binarization unchanged, so the
    index can be read back from every drawn image; the rest are ``fill``.
    """
    x = np.full((n, 6, 6, 1), fill, dtype=np.float32)
    bits = (np.arange(n)[:, None] >> np.arange(8)) & 1
    x.reshape(n, -1)[:, :8] = bits
    return x


def _decode(images):
    flat = np.asarray(images).reshape(len(images), -1)[:, :8].astype(int)
    return flat @ (1 << np.arange(8))


def _epoch(dataset):
    xs, ys = _collect(dataset)
    for a, b in zip(xs, ys):
        np.testing.assert_array_equal(a, b)  # (x_bin, x_bin): target is input
    return xs


def test_binarized_dataset_structure_and_values():
    x = _coded_images(100)
    ds = data.binarized_dataset(x, batch_size=32, seed=0)
    spec = ds.element_spec
    assert spec[0].shape.as_list() == [None, 6, 6, 1]
    assert spec[0].dtype.name == "float32"
    batches = _epoch(ds)
    assert [len(b) for b in batches] == [32, 32, 32, 4]
    epoch = np.concatenate(batches)
    assert set(np.unique(epoch)) == {0.0, 1.0}
    assert sorted(_decode(epoch)) == list(range(100))  # each example once


def test_binarized_dataset_new_draws_each_epoch_and_reproducible():
    x = _coded_images(100)
    ds = data.binarized_dataset(x, batch_size=16, seed=11)
    first = np.concatenate(_epoch(ds))
    second = np.concatenate(_epoch(ds))
    # New order and new draws in epoch 2 (compare example by example).
    assert not np.array_equal(_decode(first), _decode(second))
    by_index_1 = first[np.argsort(_decode(first))]
    by_index_2 = second[np.argsort(_decode(second))]
    assert not np.array_equal(by_index_1, by_index_2)

    # Rebuilding with the same seed replays the same epochs.
    again = data.binarized_dataset(x, batch_size=16, seed=11)
    np.testing.assert_array_equal(np.concatenate(_epoch(again)), first)
    np.testing.assert_array_equal(np.concatenate(_epoch(again)), second)

    other = data.binarized_dataset(x, batch_size=16, seed=12)
    assert not np.array_equal(np.concatenate(_epoch(other)), first)


def test_binarized_dataset_without_shuffle_keeps_order_but_redraws():
    x = _coded_images(50)
    ds = data.binarized_dataset(x, batch_size=20, seed=0, shuffle=False)
    first = np.concatenate(_epoch(ds))
    second = np.concatenate(_epoch(ds))
    np.testing.assert_array_equal(_decode(first), np.arange(50))
    np.testing.assert_array_equal(_decode(second), np.arange(50))
    assert not np.array_equal(first, second)


def test_binarized_dataset_draws_bernoulli_with_pixel_probabilities():
    # Each image has four intensity levels; count how often each level is on.
    levels = np.array([0.1, 0.3, 0.6, 0.9], dtype=np.float32)
    n = 400
    x = np.tile(np.repeat(levels, 16 * 16 // 4).reshape(16, 16, 1), (n, 1, 1, 1))
    ds = data.binarized_dataset(x, batch_size=128, seed=3, shuffle=False)
    epoch = np.concatenate(_epoch(ds))
    for level in levels:
        frequency = epoch[x == level].mean()  # 25 600 draws per level
        assert abs(frequency - level) < 0.015, (level, frequency)
    assert abs(epoch.mean() - x.mean()) < 0.005


def test_binarized_dataset_on_mnist_matches_intensity_mean(fixture_home):
    (x, _), _ = data.load("binarized_mnist", seed=0)
    ds = data.binarized_dataset(x, batch_size=64, seed=0)
    epoch = np.concatenate(_epoch(ds))
    assert epoch.shape == x.shape
    assert set(np.unique(epoch)) == {0.0, 1.0}
    assert abs(epoch.mean() - x.mean()) < 0.003  # 235 200 pixels


def test_binarized_dataset_rejects_bad_input():
    with pytest.raises(ValueError, match=re.escape("expected intensities in [0, 1]")):
        data.binarized_dataset(np.full((4, 3), 2.0), batch_size=2)
    with pytest.raises(ValueError, match=re.escape("expected intensities in [0, 1]")):
        data.binarized_dataset(np.full((4, 3), -0.5), batch_size=2)
    with pytest.raises(ValueError, match=re.escape("Received: batch_size=0")):
        data.binarized_dataset(np.zeros((4, 3)), batch_size=0)
    with pytest.raises(ValueError, match=re.escape("Received: seed=-2")):
        data.binarized_dataset(np.zeros((4, 3)), batch_size=2, seed=-2)


# ----------------------------------------------------------- as_dataset


def test_as_dataset_autoencoder_pairs_and_permutations():
    x = _coded_images(70, fill=0.25)
    ds = data.as_dataset(x, batch_size=32, seed=4)
    first = np.concatenate(_epoch(ds))  # also checks target == input
    second = np.concatenate(_epoch(ds))
    assert [len(b) for b in _epoch(ds)] == [32, 32, 6]
    assert sorted(_decode(first)) == list(range(70))
    assert sorted(_decode(second)) == list(range(70))
    assert not np.array_equal(_decode(first), _decode(second))
    # Values pass through untouched.
    np.testing.assert_array_equal(first, x[_decode(first)])

    again = data.as_dataset(x, batch_size=32, seed=4)
    np.testing.assert_array_equal(np.concatenate(_epoch(again)), first)
    np.testing.assert_array_equal(np.concatenate(_epoch(again)), second)


def test_as_dataset_with_targets_keeps_pairs_aligned():
    x = _coded_images(60)
    y = np.arange(60) * 10
    xs, ys = _collect(data.as_dataset(x, y, batch_size=25, seed=1))
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    np.testing.assert_array_equal(y_all, _decode(x_all) * 10)
    assert not np.array_equal(y_all, y)  # shuffled

    xs, ys = _collect(data.as_dataset(x, y, batch_size=25, shuffle=False))
    np.testing.assert_array_equal(np.concatenate(xs), x)
    np.testing.assert_array_equal(np.concatenate(ys), y)


def test_as_dataset_rejects_bad_input():
    with pytest.raises(ValueError, match=re.escape("Received: y=<array of shape (3,)>")):
        data.as_dataset(np.zeros((4, 2)), np.zeros(3), batch_size=2)
    with pytest.raises(ValueError, match=re.escape("Received: batch_size=1.5")):
        data.as_dataset(np.zeros((4, 2)), batch_size=1.5)
    with pytest.raises(ValueError, match="Invalid value for 'x'"):
        data.as_dataset(np.zeros((0, 2)), batch_size=2)
    with pytest.raises(ValueError, match=re.escape("Received: shuffle='no'")):
        data.as_dataset(np.zeros((4, 2)), batch_size=2, shuffle="no")


# ------------------------------------------------------ non-finite values


def _finite_message(name, shape, count):
    return (
        f"Invalid value for '{name}': expected finite values. "
        f"Received: {name}=<array of shape {shape} with {count} NaN or infinite values>"
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_as_dataset_refuses_a_non_finite_x(bad, dtype):
    x = np.full((10, 64), 0.5, dtype=dtype)
    x[3, 17] = bad
    with pytest.raises(ValueError) as info:
        data.as_dataset(x, batch_size=4)
    assert str(info.value) == _finite_message("x", (10, 64), 1)


def test_as_dataset_refuses_a_non_finite_y():
    x = np.zeros((10, 64), dtype=np.float32)
    y = np.zeros((10, 8, 8, 1), dtype=np.float32)
    y[0, 0, 0, 0] = np.nan
    y[9, 7, 7, 0] = np.inf
    with pytest.raises(ValueError) as info:
        data.as_dataset(x, y, batch_size=4)
    assert str(info.value) == _finite_message("y", (10, 8, 8, 1), 2)


def test_as_dataset_counts_every_non_finite_value_and_takes_lists():
    x = np.full((5, 3), np.nan)
    with pytest.raises(ValueError) as info:
        data.as_dataset(x, batch_size=2)
    assert str(info.value) == _finite_message("x", (5, 3), 15)
    with pytest.raises(ValueError) as info:
        data.as_dataset([[0.0, float("nan")], [1.0, 2.0]], batch_size=2)
    assert str(info.value) == _finite_message("x", (2, 2), 1)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_binarized_dataset_refuses_a_non_finite_x(bad):
    x = np.full((10, 64), 0.5, dtype=np.float32)
    x[3, 17] = bad
    with pytest.raises(ValueError) as info:
        data.binarized_dataset(x, batch_size=4)
    assert str(info.value) == _finite_message("x", (10, 64), 1)


def test_integer_and_finite_inputs_are_accepted():
    ds = data.as_dataset(np.arange(12, dtype=np.int32).reshape(4, 3), batch_size=4, shuffle=False)
    (xb, _), = list(ds)
    np.testing.assert_array_equal(xb.numpy(), np.arange(12).reshape(4, 3))
    big = np.full((4, 3), np.finfo(np.float32).max, dtype=np.float32)  # finite, however large
    data.as_dataset(big, batch_size=2)
    data.binarized_dataset(np.ones((4, 3), dtype=np.float64), batch_size=2)


def test_pipelines_train_a_keras_model():
    import keras

    (x, _), _ = data.load("digits", flatten=True)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(64, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    # shuffle=False: the pipelines shuffle themselves.
    binarized = data.binarized_dataset(x, batch_size=128, seed=0)
    history = model.fit(binarized, epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2
    assert all(np.isfinite(history.history["loss"]))
    plain = data.as_dataset(x, batch_size=128, seed=0)
    history = model.fit(plain, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_download_is_opt_in(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    attempts = []
    monkeypatch.setattr(data, "_download", lambda path: attempts.append(path) or False)
    with pytest.raises(FileNotFoundError):
        data.load("mnist")
    assert attempts == []  # nothing leaves the machine by default
    with pytest.raises(FileNotFoundError, match="download=True") as info:
        data.load("mnist", download=True)
    assert attempts == [str(tmp_path / "datasets" / "mnist.npz")]
    # A failed download is said so, not answered with "call load(..., download=True)".
    assert "Downloading with download=True failed" in str(info.value)
    assert "call load(" not in str(info.value)
    with pytest.raises(ValueError, match="Invalid value for 'download'"):
        data.load("digits", download="yes")
