"""Datasets for training and evaluating autoencoders.

:func:`load` returns ``(x_train, y_train), (x_test, y_test)`` as NumPy arrays:
images are ``float32`` in ``[0, 1]`` with a trailing channel axis (or flat
vectors with ``flatten=True``) and labels are ``int64``. Four datasets are
known (see :data:`DATASETS`):

* ``"digits"``: scikit-learn's bundled 8x8 handwritten digits (1797 images).
  Needs no download, so it is the default for examples and tests.
* ``"mnist"``: 70 000 handwritten digits, 28x28.
* ``"fashion_mnist"``: 70 000 Zalando article images, 28x28.
* ``"binarized_mnist"``: MNIST for Bernoulli decoders. The training images are
  returned as intensities so that :func:`binarized_dataset` can draw a fresh
  binarization every epoch ("dynamic binarization"); the test images are
  binarized once with a fixed seed, so evaluation is reproducible.

MNIST and Fashion-MNIST are read from the Keras dataset cache,
``$KERAS_HOME/datasets/`` (``~/.keras/datasets/`` when ``KERAS_HOME`` is not
set), in the exact files and layout that ``keras.datasets.mnist.load_data()``
and ``keras.datasets.fashion_mnist.load_data()`` use. This module never
replaces a cached file, and downloads a missing one only when asked
(``download=True``, through ``keras.utils.get_file``); otherwise a missing
file is reported at once with the path it was expected at (see ``data/README.md`` for how to seed the cache offline).

Why the files are read here rather than through the Keras loaders:

* Keras reads ``KERAS_HOME`` once, when ``keras`` is first imported, so a later
  change of the variable is silently ignored by ``keras.datasets``. This module
  resolves the cache directory on every call.
* When a file is missing (or ``mnist.npz`` fails its checksum), the Keras
  loaders call ``urllib.request.urlretrieve`` without a timeout, which on a
  machine without network access can block until the operating system gives
  up on the connection.

The parsing below is the same as in Keras (``np.load`` of the ``.npz``; IDX
files with 8- and 16-byte headers), and ``mnist.npz`` is checked against the
SHA-256 digest that Keras checks.

:func:`as_dataset` and :func:`binarized_dataset` wrap arrays in seeded
``tf.data`` pipelines; they refuse arrays holding NaN or infinite values, so
that nothing trains on them. TensorFlow is imported only when they are called.
"""

import gzip
import hashlib
import numbers
import os

import numpy as np

from keras_ae._validation import check_choice, check_int, invalid

__all__ = [
    "DATASETS",
    "as_dataset",
    "binarized_dataset",
    "list_datasets",
    "load",
]

#: Names accepted by :func:`load`, sorted.
DATASETS = ("binarized_mnist", "digits", "fashion_mnist", "mnist")

# Where Keras downloads the files from; only quoted in error messages.
_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# The digest `keras.datasets.mnist.load_data` verifies.
_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# In the order `keras.datasets.fashion_mnist.load_data` reads them.
_FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)

# Sub-streams of the user's seed, so that e.g. the training subset does not
# change when the test subset or the test binarization is drawn differently.
_STREAM_TRAIN_SUBSET = 0
_STREAM_TEST_SUBSET = 1
_STREAM_TEST_BINARIZATION = 2


def list_datasets():
    """Returns the names accepted by :func:`load`.

    Returns:
        A sorted list of dataset names.

    Example:

    ```python
    >>> keras_ae.data.list_datasets()
    ['binarized_mnist', 'digits', 'fashion_mnist', 'mnist']
    ```
    """
    return list(DATASETS)


def load(name, *, flatten=False, binarize=None, limit=None, seed=0, download=False):
    """Loads a dataset as NumPy arrays ready for an autoencoder.

    Args:
        name: One of :data:`DATASETS`: ``"digits"`` (bundled with
            scikit-learn, never downloaded), ``"mnist"``, ``"fashion_mnist"``
            or ``"binarized_mnist"`` (the last three read from the Keras cache,
            ``$KERAS_HOME/datasets/`` or ``~/.keras/datasets/``).
        flatten: If ``True``, each image becomes a vector, e.g. ``(n, 784)``
            instead of ``(n, 28, 28, 1)``.
        binarize: ``None`` to keep intensities, or a threshold in ``(0, 1)``:
            pixels ``> binarize`` become 1.0 and all others 0.0. Not allowed
            with ``"binarized_mnist"``, which is binarized by sampling.
        limit: ``None`` for every example, or the maximum number of examples
            kept in each split. The subset is drawn at random (without
            replacement, keeping the original order) with ``seed``.
        download: If ``True``, a missing MNIST or Fashion-MNIST file is
            fetched from the Keras origin with ``keras.utils.get_file``
            (20 s socket timeout). Off by default: nothing leaves the
            machine unless you ask for it.
        seed: Non-negative integer seeding everything random here: the
            digits train/test split, the ``limit`` subsets and the fixed test
            binarization of ``"binarized_mnist"``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``. The ``x`` arrays are
        ``float32`` in ``[0, 1]`` shaped ``(n, height, width, 1)`` (or
        ``(n, height * width)`` with ``flatten=True``); the ``y`` arrays are
        ``int64`` class labels 0..9. Digits has 1437 training and 360 test
        images of 8x8; the MNIST variants have 60000 and 10000 of 28x28.
        For ``"binarized_mnist"``, ``x_train`` holds the MNIST intensities
        (feed them to :func:`binarized_dataset`) and ``x_test`` one fixed
        Bernoulli draw of the test intensities, reproducible for ``seed``
        and independent of ``limit`` (a limited test set is a subset of
        the full binarized test set).

    Raises:
        ValueError: If an argument is invalid (for example an unknown name;
            the message suggests the closest valid one).
        FileNotFoundError: If a dataset file is not in the Keras cache. The
            message names the expected path and how to put the file there.
        OSError: If a cached file is corrupt or not the official one.

    Example:

    ```python
    from keras_ae import data

    (x_train, y_train), (x_test, y_test) = data.load("digits", flatten=True)
    x_train.shape  # (1437, 64)

    (x_train, _), (x_test, _) = data.load("mnist", limit=5000, seed=1)
    x_train.shape  # (5000, 28, 28, 1)
    ```
    """
    name = check_choice("name", name, DATASETS)
    if not isinstance(flatten, (bool, np.bool_)):
        raise invalid("flatten", "a bool", flatten)
    if binarize is not None:
        if not _is_real(binarize) or not 0.0 < binarize < 1.0:
            raise invalid("binarize", "a number in (0, 1) or None", binarize)
        if name == "binarized_mnist":
            raise invalid(
                "binarize",
                "None when name='binarized_mnist' (that dataset is binarized "
                "by sampling; use name='mnist' for a fixed threshold)",
                binarize,
            )
        binarize = float(binarize)
    if limit is not None:
        if not _is_int(limit) or limit < 1:
            raise invalid("limit", "a positive integer or None", limit)
        limit = int(limit)
    seed = check_int("seed", seed, minimum=0)
    download = _check_bool("download", download)

    if name == "digits":
        (x_train, y_train), (x_test, y_test) = _load_digits(seed)
    elif name == "fashion_mnist":
        (x_train, y_train), (x_test, y_test) = _load_fashion_mnist(download)
    else:
        (x_train, y_train), (x_test, y_test) = _load_mnist(download)

    # Choose the subsets before scaling so only the kept images are converted.
    train_idx = _subset(len(x_train), limit, seed, _STREAM_TRAIN_SUBSET)
    test_idx = _subset(len(x_test), limit, seed, _STREAM_TEST_SUBSET)
    scale = 16.0 if name == "digits" else 255.0
    x_train = _to_unit_float(x_train, train_idx, scale)
    y_train = np.asarray(y_train[train_idx], dtype=np.int64)
    y_test = np.asarray(y_test[test_idx], dtype=np.int64)

    if name == "binarized_mnist":
        # Draw over the whole test set, then subset: a test image gets the
        # same binarization whatever `limit` is.
        x_test = _to_unit_float(x_test, slice(None), scale)
        rng = np.random.default_rng([seed, _STREAM_TEST_BINARIZATION])
        noise = rng.random(x_test.shape, dtype=np.float32)
        x_test = (noise < x_test).astype(np.float32)[test_idx]
    else:
        x_test = _to_unit_float(x_test, test_idx, scale)

    if binarize is not None:
        x_train = (x_train > binarize).astype(np.float32)
        x_test = (x_test > binarize).astype(np.float32)

    if flatten:
        x_train = x_train.reshape(len(x_train), -1)
        x_test = x_test.reshape(len(x_test), -1)
    else:
        x_train = x_train[..., np.newaxis]
        x_test = x_test[..., np.newaxis]
    return (x_train, y_train), (x_test, y_test)


def as_dataset(x, y=None, *, batch_size, shuffle=True, seed=0):
    """Wraps arrays in a batched, prefetched ``tf.data.Dataset``.

    Each iteration over the dataset (each epoch of ``model.fit``) visits every
    example exactly once. With ``shuffle=True`` the order is a new permutation
    every epoch; the sequence of permutations is the same whenever the
    dataset is rebuilt with the same ``seed`` (under the same TensorFlow
    global seed, see ``tf.random.set_seed``). The last batch may be smaller.

    Args:
        x: Array of inputs, first axis the examples.
        y: Array of targets with the same first dimension, or ``None`` to
            use ``x`` as the target (the autoencoder case).
        batch_size: Positive integer.
        shuffle: Whether to shuffle the examples every epoch.
        seed: Non-negative integer seeding the shuffle.

    Returns:
        A ``tf.data.Dataset`` of ``(x_batch, y_batch)`` pairs, or
        ``(x_batch, x_batch)`` when ``y`` is ``None``.

    Raises:
        ValueError: If an argument is invalid, or ``x`` or ``y`` holds a
            NaN or infinite value (the message counts them).

    Example:

    ```python
    (x_train, _), _ = keras_ae.data.load("digits")
    train = keras_ae.data.as_dataset(x_train, batch_size=64, seed=0)
    model.fit(train, epochs=10)
    ```
    """
    tf = _tensorflow()
    x = _check_examples("x", x)
    if y is not None:
        y = _check_examples("y", y)
        if len(y) != len(x):
            raise _invalid_array(
                "y", f"an array with as many examples as x ({len(x)})", y
            )
    batch_size = check_int("batch_size", batch_size, minimum=1)
    shuffle = _check_bool("shuffle", shuffle)
    seed = check_int("seed", seed, minimum=0)

    xs = tf.constant(x)
    ys = xs if y is None else tf.constant(y)

    def gather(idx):
        xb = tf.gather(xs, idx)
        yb = xb if y is None else tf.gather(ys, idx)
        return xb, yb

    return (
        _index_batches(tf, len(x), batch_size, shuffle, seed)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def binarized_dataset(x, *, batch_size, seed=0, shuffle=True):
    """Dynamically binarized ``tf.data.Dataset`` of ``(x_bin, x_bin)`` pairs.

    Dynamic binarization (used for binarized MNIST in the VAE and IWAE
    literature) treats each intensity as the probability that the pixel is
    on: every time an image is served, each pixel is drawn afresh as
    ``1.0`` with probability ``x`` and ``0.0`` otherwise. Each epoch therefore
    sees new binary images, which acts as data augmentation for Bernoulli
    decoders and avoids the overfitting of a single fixed binarization.

    The draws are reproducible: rebuilding the dataset with the same
    ``seed`` gives the same sequence of epochs (the first iteration matches
    the first iteration, the second the second, and so on), while two
    iterations over one dataset (two epochs) give different draws, and, with
    ``shuffle=True``, different orders. Reproducibility assumes the same
    TensorFlow global seed (``tf.random.set_seed``), which TensorFlow mixes
    into every op seed. Internally, ``tf.data.Dataset.random`` with
    ``rerandomize_each_iteration=True`` supplies one seed per batch for
    ``tf.random.stateless_uniform``.

    Args:
        x: Intensities in ``[0, 1]`` (for example ``x_train`` from
            ``load("binarized_mnist")``), first axis the examples.
        batch_size: Positive integer.
        seed: Non-negative integer seeding the draws and the shuffle.
        shuffle: Whether to shuffle the examples every epoch.

    Returns:
        A batched, prefetched ``tf.data.Dataset`` yielding
        ``(x_bin, x_bin)`` with ``x_bin`` ``float32`` in ``{0, 1}`` and
        shaped like a batch of ``x``.

    Raises:
        ValueError: If an argument is invalid, or ``x`` holds a NaN or
            infinite value, or values outside ``[0, 1]``.

    Example:

    ```python
    from keras_ae import data

    (x_train, _), (x_test, _) = data.load("binarized_mnist")
    train = data.binarized_dataset(x_train, batch_size=128, seed=0)
    model.fit(train, epochs=50)       # fresh binarization every epoch
    model.evaluate(x_test, x_test)    # fixed binarization of the test set
    ```
    """
    tf = _tensorflow()
    x = _check_examples("x", x).astype(np.float32, copy=False)
    if not np.all((x >= 0.0) & (x <= 1.0)):
        raise ValueError(
            "Invalid value for 'x': expected intensities in [0, 1]. "
            f"Received: x=<array with values in [{np.min(x):g}, {np.max(x):g}]>"
        )
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    shuffle = _check_bool("shuffle", shuffle)

    xs = tf.constant(x)
    batches = _index_batches(tf, len(x), batch_size, shuffle, seed)
    # An endless stream of random int64s, re-drawn on every iteration; two of
    # them make the seed of one batch's stateless draw.
    draw_seeds = tf.data.Dataset.random(
        seed=seed, rerandomize_each_iteration=True
    ).batch(2)

    def draw(idx, draw_seed):
        probs = tf.gather(xs, idx)
        noise = tf.random.stateless_uniform(
            tf.shape(probs), seed=draw_seed, dtype=tf.float32
        )
        x_bin = tf.cast(noise < probs, tf.float32)
        return x_bin, x_bin

    return (
        tf.data.Dataset.zip((batches, draw_seeds))
        .map(draw, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


# --------------------------------------------------------------------------
# Loading helpers


def _load_digits(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images  # (1797, 8, 8), values 0..16
    labels = digits.target
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.2, random_state=seed, stratify=labels
    )
    return (x_train, y_train), (x_test, y_test)


def _cache_dir():
    """The Keras dataset cache directory, resolved as Keras resolves it."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            # Keras falls back to /tmp/.keras when the home is read-only.
            base = "/tmp"
        home = os.path.join(base, ".keras")
    return os.path.join(os.path.expanduser(home), "datasets")


def _download(path):
    """Tries to download a missing cache file to ``path``; returns success.

    Uses ``keras.utils.get_file`` (what ``keras.datasets`` uses, with its
    origin), with the cache directory passed explicitly and a socket timeout
    so that an offline machine fails within seconds instead of hanging. Only
    called when the file is absent, so no existing file is ever replaced.
    """
    import socket

    import keras

    home, relative = path.split(os.sep + "datasets" + os.sep, 1)
    new_dirs = []  # directories get_file creates, removed again on failure
    directory = os.path.dirname(path)
    while directory != home and not os.path.isdir(directory):
        new_dirs.append(directory)
        directory = os.path.dirname(directory)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    try:
        keras.utils.get_file(
            os.path.basename(relative),
            origin=_ORIGIN + os.path.basename(relative),
            cache_dir=home,
            cache_subdir=os.path.join("datasets", os.path.dirname(relative)),
        )
    except Exception:  # offline, refused, interrupted: report the missing file
        for directory in new_dirs:  # deepest first
            if os.path.isdir(directory) and not os.listdir(directory):
                os.rmdir(directory)
        return False
    finally:
        socket.setdefaulttimeout(previous)
    return os.path.isfile(path)


def _seed_hint(module):
    return (
        "To fetch the files, call load(..., download=True) or run "
        f"keras.datasets.{module}.load_data() on a machine with internet access "
        "(it saves them in its cache, by default ~/.keras/datasets/) and copy "
        "them over. To use another cache, set KERAS_HOME; the files go in its "
        "datasets/ subdirectory. See data/README.md."
    )


def _load_mnist(download=False):
    path = os.path.join(_cache_dir(), "mnist.npz")
    if not os.path.isfile(path) and not (download and _download(path)):
        raise FileNotFoundError(
            f"MNIST is not in the Keras cache: expected the file {path}. "
            f"Copy the official mnist.npz ({_ORIGIN}mnist.npz, SHA-256 "
            f"{_MNIST_SHA256}) to that path. {_seed_hint('mnist')}"
        )
    digest = _sha256(path)
    if digest != _MNIST_SHA256:
        raise OSError(
            f"The file {path} is not the official mnist.npz: its SHA-256 is "
            f"{digest}, expected {_MNIST_SHA256}. Replace it with the official "
            f"file. {_seed_hint('mnist')}"
        )
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _load_fashion_mnist(download=False):
    directory = os.path.join(_cache_dir(), "fashion-mnist")
    missing = [
        f for f in _FASHION_FILES
        if not os.path.isfile(os.path.join(directory, f))
        and not (download and _download(os.path.join(directory, f)))
    ]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST is not in the Keras cache: expected the directory "
            f"{directory}{os.sep} to hold the four files {list(_FASHION_FILES)}; "
            f"missing: {missing}. Copy the official Fashion-MNIST files "
            f"({_ORIGIN}<file name>) there. {_seed_hint('fashion_mnist')}"
        )
    paths = [os.path.join(directory, f) for f in _FASHION_FILES]
    y_train = _read_idx(paths[0], magic=2049)
    x_train = _read_idx(paths[1], magic=2051)
    y_test = _read_idx(paths[2], magic=2049)
    x_test = _read_idx(paths[3], magic=2051)
    for labels, images, what in (
        (y_train, x_train, "train"),
        (y_test, x_test, "t10k"),
    ):
        if len(labels) != len(images):
            raise OSError(
                f"Fashion-MNIST files in {directory} disagree: {len(images)} "
                f"{what} images but {len(labels)} {what} labels. Replace them "
                "with the official files."
            )
    return (x_train, y_train), (x_test, y_test)


def _read_idx(path, *, magic):
    """Reads a gzipped IDX file of unsigned bytes (labels or 28x28 images)."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as error:
        raise OSError(
            f"Could not read {path} as a gzip file ({error}). "
            "Replace it with the official file."
        ) from error
    header = 8 if magic == 2049 else 16
    if len(raw) >= header:
        fields = np.frombuffer(raw, dtype=">u4", count=header // 4)
        count = int(fields[1])
        shape = (count,) if magic == 2049 else (count, int(fields[2]), int(fields[3]))
        if int(fields[0]) == magic and len(raw) - header == int(np.prod(shape)):
            return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
    kind = "labels" if magic == 2049 else "images"
    raise OSError(
        f"{path} is not a valid IDX file of {kind} (wrong header or size). "
        "Replace it with the official file."
    )


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _subset(n, limit, seed, stream):
    """Indices of a seeded random subset of ``range(n)``, in increasing order."""
    if limit is None or limit >= n:
        return slice(None)
    rng = np.random.default_rng([seed, stream])
    return np.sort(rng.choice(n, size=limit, replace=False))


def _to_unit_float(images, index, scale):
    return np.asarray(images[index], dtype=np.float32) / np.float32(scale)


# --------------------------------------------------------------------------
# tf.data helpers


def _tensorflow():
    import tensorflow as tf

    return tf


def _index_batches(tf, n, batch_size, shuffle, seed):
    """Batches of example indices; a fresh seeded permutation per iteration."""
    indices = tf.data.Dataset.range(n)
    if shuffle:
        indices = indices.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return indices.batch(batch_size)


def _check_examples(name, value):
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - any conversion failure is a bad value
        array = None
    if array is None or array.ndim < 1 or len(array) == 0 or array.dtype == object:
        raise _invalid_array(
            name, "a non-empty array with the examples on the first axis", value
        )
    if array.dtype.kind in "fc":  # integers and booleans are always finite
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise _invalid_array(
                name, "finite values", array, f"with {bad} NaN or infinite values"
            )
    return array


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise invalid(name, "a bool", value)
    return bool(value)


def _invalid_array(name, expected, value, detail=""):
    """Like ``invalid`` but summarises arrays instead of printing them.

    ``detail`` (e.g. ``"with 1 NaN or infinite values"``) is appended to
    the summary: ``<array of shape (10, 64) with 1 NaN or infinite values>``.
    """
    shape = getattr(value, "shape", None)
    if shape is None:
        return invalid(name, expected, value)
    summary = f"array of shape {tuple(shape)}" + (f" {detail}" if detail else "")
    return ValueError(
        f"Invalid value for '{name}': expected {expected}. "
        f"Received: {name}=<{summary}>"
    )


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
