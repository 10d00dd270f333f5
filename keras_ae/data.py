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

Anomaly-detection data come from the same cache, each dataset in its own
subdirectory, with the same rules (a missing file is reported with its path
and its publisher's URL; ``download=True`` fetches it; nothing is replaced):

* :func:`load_odds`: tabular outlier benchmarks of ODDS (``cardio``,
  ``satellite``, ``shuttle``) as ``(x, y)``, ``y`` 1 for an outlier.
* :func:`load_nab`: the two NAB series of the keras.io time-series anomaly
  example as ``(timestamps, values, labels)``.
* :func:`load_telemanom` and :func:`telemanom_channels`: NASA SMAP/MSL
  spacecraft telemetry with labelled anomalous intervals.
* :func:`load_novelty`: digits, MNIST or Fashion-MNIST as a one-class task
  (train on one class, detect the nine others).
* :func:`load_movielens`: MovieLens ml-100k and ml-1m ratings for
  recommender autoencoders (AutoRec) as sparse ``(train, test)`` matrices.
* :func:`load_20newsgroups`: the 20 Newsgroups "bydate" corpus as sparse
  bag-of-words counts of the most frequent training words, for semantic
  hashing and document retrieval (:data:`NEWSGROUPS` names the labels).

:func:`synthetic_ratings` and :func:`synthetic_documents` generate stand-ins
for MovieLens and 20 Newsgroups (a low-rank ratings matrix; a topic model).
:func:`synthetic_curves` generates the "curves" images of Hinton &
Salakhutdinov (2006): smooth curves through three random points, 28x28.
:func:`sparse_dataset` batches the rows of a ``scipy.sparse`` matrix, dense one
batch at a time. :func:`as_dataset` and :func:`binarized_dataset` wrap arrays in seeded
``tf.data`` pipelines; they refuse arrays holding NaN or infinite values, so
that nothing trains on them. TensorFlow is imported only when they are called.
"""

import collections
import csv
import gzip
import hashlib
import json
import numbers
import os
import re
import shutil
import stat
import tempfile
import warnings
import zipfile
import zlib

import numpy as np

from keras_ae._validation import Shown as _Shown
from keras_ae._validation import check_choice, check_int, invalid, suggest

__all__ = [
    "DATASETS",
    "as_dataset",
    "binarized_dataset",
    "list_datasets",
    "load",
    "semi_supervised_dataset",
    "sparse_dataset",
    "synthetic_curves",
    "synthetic_documents",
    "synthetic_ratings",
    "NEWSGROUPS",
    "load_20newsgroups",
    "load_movielens",
    "load_nab",
    "load_novelty",
    "load_odds",
    "load_telemanom",
    "telemanom_channels",
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

#: Names accepted by :func:`load_novelty`.
_NOVELTY_DATASETS = ("digits", "fashion_mnist", "mnist")

# ODDS (http://odds.cs.stonybrook.edu): each dataset page links its .mat file
# to a Dropbox share of the ODDS author; `url` is that link with dl=1 (the
# file itself rather than Dropbox's preview page). `sha256` is the digest of
# the official files (the MAT headers are ODDS' own, 2014 and 2016), which
# an independent registration of the same links (a Julia DataDeps module)
# records too; it is checked only for a download, never for a file already
# in the cache. `shape` is (rows, features, outliers) of the official file.
_OddsFile = collections.namedtuple("_OddsFile", "page url sha256 shape")
_ODDS = {
    "cardio": _OddsFile(
        "http://odds.cs.stonybrook.edu/cardiotocogrpahy-dataset/",  # sic, ODDS' spelling
        "https://www.dropbox.com/s/galg3ihvxklf0qi/cardio.mat?dl=1",
        "5e568b6a73711012c481fa6cc984ab9c68e9a4fa44d6aeb3b43efa381c3f695b",
        (1831, 21, 176),
    ),
    "satellite": _OddsFile(
        "http://odds.cs.stonybrook.edu/satellite-dataset/",
        "https://www.dropbox.com/s/dpzxp8jyr9h93k5/satellite.mat?dl=1",
        "6feac3112b9c14e1c3e60afc437f2f3d29dc1000119c9f950c628078778d6aa0",
        (6435, 36, 2036),
    ),
    "shuttle": _OddsFile(
        "http://odds.cs.stonybrook.edu/shuttle-dataset/",
        "https://www.dropbox.com/s/mk8ozgisimfn3dw/shuttle.mat?dl=1",
        "b6e396c92354d5dcf5036901e36dc58e2913f2d1a5e138c35a2bedf9c69db899",
        (49097, 9, 3511),
    ),
}

# NAB (https://github.com/numenta/NAB): folder of the file under data/, the
# SHA-256 digest of the file (unchanged upstream since 2014-08-18, commit
# ad050ac), and its anomaly windows (start, end), both ends included.
# The windows are those of NAB's labels/combined_windows.json, where they
# read "2014-04-10 16:15:00.000000" and "2014-04-12 01:45:00.000000" for
# artificialWithAnomaly/art_daily_jumpsup.csv and [] for
# artificialNoAnomaly/art_daily_small_noise.csv (checked against two
# versions of that file, commits 07b379d and 450b949 of numenta/NAB).
_NAB_ORIGIN = "https://raw.githubusercontent.com/numenta/NAB/master/data/"
_NAB = {
    "art_daily_jumpsup": (
        "artificialWithAnomaly",
        "f79f92b93ee4f9c10e2dc552505e8880b0c618639ed5e0f9816e044b75c26456",
        (("2014-04-10 16:15:00", "2014-04-12 01:45:00"),),
    ),
    "art_daily_small_noise": (
        "artificialNoAnomaly",
        "c4b304229f69f108eaa024fb2406fcd4510c5c5d95cd0053e2da6989682e4e6d",
        (),
    ),
}

# telemanom (https://github.com/khundman/telemanom). The digest is that of
# labeled_anomalies.csv at commit 2e6c5b6 (82 rows; older copies with 81 rows
# and indices shifted by 250 also circulate). The archive is checked by its
# contents instead: no digest of the published data.zip is known.
_TELEMANOM_CSV_URL = "https://raw.githubusercontent.com/khundman/telemanom/master/labeled_anomalies.csv"
_TELEMANOM_CSV_ROWS = 82
_NAB_ROWS = 4032  # both series: 14 days of 288 five-minute steps
_TELEMANOM_CSV_SHA256 = "057ce2d6c8875982bf4e5404aefea14efdcbce413d80826d2b737c95b59b7539"
_TELEMANOM_ZIP_URL = "https://s3-us-west-2.amazonaws.com/telemanom/data.zip"
_TELEMANOM_COLUMNS = ("chan_id", "spacecraft", "anomaly_sequences", "num_values")
_TELEMANOM_SPACECRAFT = ("MSL", "SMAP")
# Channels with telemetry in data.zip but no row in the CSV, hence no labels.
_TELEMANOM_UNLABELLED = ("T-10",)
# The file names extracted from data.zip (data/train/<name>, data/test/<name>).
_TELEMANOM_MEMBER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.npy")
# One channel of the CSV; `lines` are the CSV lines it comes from.
_TelemanomRow = collections.namedtuple("_TelemanomRow", "spacecraft num_values sequences lines")


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


def synthetic_ratings(n_users=300, n_items=200, *, rank=3, density=0.2, test_fraction=0.2, noise=0.3, seed=0):
    """A ratings matrix from a low-rank model on the 1-5 scale, split into train and test.

    A stand-in for MovieLens when the data is not there (the tutorials' quick
    mode): ratings ``clip(round(3 + U V^T + noise), 1, 5)`` with ``U`` and
    ``V`` Gaussian factors of width ``rank``, observed at random with
    probability ``density``; a fraction ``test_fraction`` of the observed
    entries is held out.

    Args:
        n_users: Positive integer.
        n_items: Positive integer.
        rank: Width of the factors.
        density: Fraction of observed entries, in (0, 1].
        test_fraction: Fraction of the observed entries in ``test``, in (0, 1).
        noise: Standard deviation of the Gaussian noise added before rounding.
        seed: Non-negative integer.

    Returns:
        ``(train, test)``: ``scipy.sparse.csr_matrix`` float32, each
        ``(n_users, n_items)``, disjoint, as :func:`load_movielens` returns.

    Example:

    ```python
    train, test = keras_ae.data.synthetic_ratings(300, 200, seed=0)
    ```
    """
    import scipy.sparse

    n_users = check_int("n_users", n_users, minimum=1)
    n_items = check_int("n_items", n_items, minimum=1)
    rank = check_int("rank", rank, minimum=1)
    density = _check_fraction("density", density, closed=True)
    test_fraction = _check_fraction("test_fraction", test_fraction)
    noise = _check_real("noise", noise)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    scores = 3 + rng.normal(size=(n_users, rank)) @ rng.normal(size=(rank, n_items)) / np.sqrt(rank) * 1.2
    ratings = np.clip(np.round(scores + noise * rng.normal(size=scores.shape)), 1, 5).astype("float32")
    observed = rng.uniform(size=ratings.shape) < density
    held_out = observed & (rng.uniform(size=ratings.shape) < test_fraction)
    train = scipy.sparse.csr_matrix(np.where(observed & ~held_out, ratings, 0))
    test = scipy.sparse.csr_matrix(np.where(held_out, ratings, 0))
    return train, test


def synthetic_documents(n_train=1000, n_test=500, *, vocab_size=500, n_topics=8, length=60, seed=0):
    """Bags of words drawn from a topic model, one topic per class: a stand-in for 20 Newsgroups.

    Each class ``c`` has a word distribution ``phi_c ~ Dirichlet(0.05)``; a
    document of class ``c`` mixes it with the others (weights ``theta ~
    Dirichlet`` concentrated on ``c``: on average 70% of its words) and draws
    ``Poisson(length)`` words from the mixture.

    Args:
        n_train: Number of training documents.
        n_test: Number of test documents.
        vocab_size: Number of words.
        n_topics: Number of classes (and topics).
        length: Mean number of words of a document.
        seed: Non-negative integer.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: counts as
        ``scipy.sparse.csr_matrix`` float32 ``(n, vocab_size)`` and ``int64``
        labels, as :func:`load_20newsgroups` returns them (without the vocabulary).

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ae.data.synthetic_documents(seed=0)
    ```
    """
    import scipy.sparse

    n_train = check_int("n_train", n_train, minimum=1)
    n_test = check_int("n_test", n_test, minimum=1)
    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    n_topics = check_int("n_topics", n_topics, minimum=2)
    length = check_int("length", length, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    topics = rng.dirichlet(np.full(vocab_size, 0.05), size=n_topics)
    n = n_train + n_test
    labels = rng.integers(0, n_topics, size=n)
    alpha = np.full((n, n_topics), 0.3 / (n_topics - 1))
    alpha[np.arange(n), labels] = 0.7
    theta = np.stack([rng.dirichlet(a * 10) for a in alpha])
    words = theta @ topics
    counts = np.stack([rng.multinomial(max(1, rng.poisson(length)), p / p.sum()) for p in words])
    x = scipy.sparse.csr_matrix(counts.astype("float32"))
    return (x[:n_train], labels[:n_train].astype("int64")), (x[n_train:], labels[n_train:].astype("int64"))


def synthetic_curves(n_train=20000, n_test=10000, *, flatten=False, return_points=False, seed=0):
    """Images of smooth random curves: the "curves" data of Hinton & Salakhutdinov (2006).

    The paper's synthetic data set holds 28x28 grey-level images of curves
    "generated from three randomly chosen points in two dimensions", so an
    image is a function of six numbers: its intrinsic dimensionality is six.
    This generator follows that description, not the original code (which
    is not reproduced here): each image draws three points uniformly in the
    square ``[4, 23]^2`` of pixel coordinates (pixel centres at 0..27), the
    quadratic curve through them (``P(t) = sum_k L_k(t) p_k``, ``L_k`` the
    Lagrange polynomials with nodes ``t = 0, 1/2, 1``: the curve starts at
    the first point, passes through the second and ends at the third), and
    renders it with a Gaussian stroke profile: a pixel at distance ``d``
    (in pixels) from the curve has intensity ``exp(-d^2 / (2 * 0.75^2))``,
    1 on the curve, 0.41 one pixel away, 0.03 two pixels away, set to 0
    below 0.01. The distance is to a polyline of 32 segments along the
    curve (exact to within 0.03 pixel). The curve never leaves the image:
    it overshoots the square of its points by at most an eighth of their
    spread, here 2.4 pixels.

    The rendering is vectorised NumPy and deterministic: the same ``seed``
    gives the same images on any machine, the training images do not
    depend on ``n_test`` (nor the test images on ``n_train``), and an image
    depends on nothing but its three points.

    Args:
        n_train: Positive integer, number of training images.
        n_test: Positive integer, number of test images.
        flatten: If ``True``, each image is a vector of 784 pixels instead of
            a ``(28, 28, 1)`` array, as in :func:`load`.
        return_points: If ``True``, also return the three points of each
            image (its six true latent factors).
        seed: Non-negative integer.

    Returns:
        ``(x_train, x_test)``: ``float32`` in ``[0, 1]``, shaped
        ``(n, 28, 28, 1)`` (or ``(n, 784)`` with ``flatten=True``). With
        ``return_points=True``: ``(x_train, points_train), (x_test,
        points_test)``, the points ``float32`` ``(n, 3, 2)`` in pixel
        coordinates ``(row, column)``.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    ```python
    x_train, x_test = keras_ae.data.synthetic_curves(20000, 10000, flatten=True)
    x_train.shape  # (20000, 784)
    ```
    """
    n_train = check_int("n_train", n_train, minimum=1)
    n_test = check_int("n_test", n_test, minimum=1)
    flatten = _check_bool("flatten", flatten)
    return_points = _check_bool("return_points", return_points)
    seed = check_int("seed", seed, minimum=0)
    splits = []
    for n, stream in ((n_train, _STREAM_TRAIN_SUBSET), (n_test, _STREAM_TEST_SUBSET)):
        rng = np.random.default_rng([seed, stream])
        points = rng.uniform(_CURVE_LOW, _CURVE_HIGH, size=(n, 3, 2))
        images = _render_curves(points)
        images = images.reshape(n, -1) if flatten else images[..., np.newaxis]
        splits.append((images, points.astype(np.float32)))
    if return_points:
        return tuple(splits)
    return splits[0][0], splits[1][0]


# The curves' points are drawn in [_CURVE_LOW, _CURVE_HIGH]^2 (pixel coordinates).
_CURVE_LOW, _CURVE_HIGH = 4.0, 23.0
_CURVE_SIDE = 28
_CURVE_SEGMENTS = 32
_CURVE_WIDTH = 0.75  # standard deviation of the Gaussian stroke profile, in pixels
_CURVE_FLOOR = 0.01  # intensities below this are set to 0


def _render_curves(points, chunk=512):
    """Renders curves through ``points`` ``(n, 3, 2)`` as ``float32`` images ``(n, 28, 28)``.

    The squared distance of pixel ``p`` to segment ``[a, b]`` is
    ``|p - a|^2 - 2 s (p - a).(b - a) + s^2 |b - a|^2`` with ``s`` the
    clipped projection; rows and columns enter separately, so the terms are
    sums of a row array and a column array broadcast to the grid.
    """
    points = np.asarray(points, dtype=np.float64)
    t = np.linspace(0.0, 1.0, _CURVE_SEGMENTS + 1)
    # Lagrange basis with nodes 0, 1/2, 1: shape (segments + 1, 3).
    basis = np.stack([2 * (t - 0.5) * (t - 1), -4 * t * (t - 1), 2 * t * (t - 0.5)], axis=1)
    coordinate = np.arange(_CURVE_SIDE, dtype=np.float32)[np.newaxis, :, np.newaxis]  # (1, 28, 1)
    images = np.empty((len(points), _CURVE_SIDE, _CURVE_SIDE), dtype=np.float32)
    for start in range(0, len(points), chunk):
        curve = np.einsum("sk,nkd->nsd", basis, points[start:start + chunk]).astype(np.float32)
        a = curve[:, :-1]  # segment starts (c, segments, 2)
        ab = curve[:, 1:] - a
        inverse = 1.0 / np.maximum((ab * ab).sum(-1), 1e-12)  # (c, segments)
        # Per row (r) and per column (q): (c, 28, segments).
        ap_r = coordinate - a[:, np.newaxis, :, 0]
        ap_q = coordinate - a[:, np.newaxis, :, 1]
        dot = (ap_r * ab[:, np.newaxis, :, 0])[:, :, np.newaxis] + (ap_q * ab[:, np.newaxis, :, 1])[:, np.newaxis]
        square = (ap_r * ap_r)[:, :, np.newaxis] + (ap_q * ap_q)[:, np.newaxis]  # (c, 28, 28, segments)
        along = np.clip(dot * inverse[:, np.newaxis, np.newaxis], 0.0, 1.0)
        distance2 = (square - along * dot * 2 + along * along / inverse[:, np.newaxis, np.newaxis]).min(-1)
        ink = np.exp(-np.maximum(distance2, 0.0) / (2 * _CURVE_WIDTH**2))
        images[start:start + chunk] = np.where(ink < _CURVE_FLOOR, 0.0, ink)
    return images

def _check_fraction(name, value, closed=False):
    from keras_ae._validation import check_float

    return check_float(name, value, low=0, high=1, low_open=True, high_open=not closed)


def _check_real(name, value):
    from keras_ae._validation import check_float

    return check_float(name, value, low=0)


def sparse_dataset(x, y=None, *, batch_size, shuffle=True, seed=0):
    """Dense batches of the rows of a sparse matrix, densified one batch at a time.

    For data too sparse to hold dense (ratings matrices, bags of words): the
    matrix is kept as a ``tf.SparseTensor``, sliced by rows, batched, and only
    then made dense.

    Args:
        x: A ``scipy.sparse`` matrix ``(n_rows, n_columns)``; an absent
            entry is 0.
        y: ``None`` (the batches are ``x``, the autoencoder's input and
            target) or a sparse matrix of the same shape (the batches are
            ``(x, y)``: e.g. training ratings in, held-out ratings as targets).
        batch_size: Positive integer, rows per batch (the last may be smaller).
        shuffle: Whether to reshuffle the rows every epoch (seeded).
        seed: Non-negative integer seeding the shuffle.

    Returns:
        A ``tf.data.Dataset`` of float32 batches ``(batch, n_columns)``.

    Raises:
        ValueError: If ``x`` or ``y`` is not sparse, the shapes differ, or the
            matrix holds a NaN or infinite value.

    Example:

    ```python
    train, test = keras_ae.data.load_movielens("ml-100k")
    batches = keras_ae.data.sparse_dataset(train, batch_size=64)
    ```
    """
    tf = _tensorflow()
    x = _check_sparse("x", x)
    if y is not None:
        y = _check_sparse("y", y)
        if y.shape != x.shape:
            raise invalid("y", f"a sparse matrix of the shape of x {x.shape}",
                          _Shown(f"<sparse matrix of shape {y.shape}>"))
    batch_size = check_int("batch_size", batch_size, minimum=1)
    shuffle = _check_bool("shuffle", shuffle)
    seed = check_int("seed", seed, minimum=0)
    tensors = _sparse_tensor(tf, x) if y is None else (_sparse_tensor(tf, x), _sparse_tensor(tf, y))
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        dataset = dataset.shuffle(x.shape[0], seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if y is None:
        dataset = dataset.map(tf.sparse.to_dense)
    else:
        dataset = dataset.map(lambda a, b: (tf.sparse.to_dense(a), tf.sparse.to_dense(b)))
    return dataset.prefetch(tf.data.AUTOTUNE)


def _check_sparse(name, matrix):
    import scipy.sparse

    if not scipy.sparse.issparse(matrix) or matrix.ndim != 2:
        raise invalid(name, "a 2-D scipy.sparse matrix", _Shown(f"<{type(matrix).__name__}>"))
    matrix = matrix.tocsr()
    bad = int(np.count_nonzero(~np.isfinite(matrix.data)))
    if bad:
        raise invalid(name, "finite values", _Shown(f"<sparse matrix with {bad} NaN or infinite values>"))
    return matrix


def _sparse_tensor(tf, matrix):
    coo = matrix.tocoo()
    order = np.lexsort((coo.col, coo.row))  # the row-major order tf.sparse expects
    indices = np.stack([coo.row[order], coo.col[order]], axis=1).astype("int64")
    return tf.sparse.SparseTensor(indices, coo.data[order].astype("float32"), coo.shape)


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


def semi_supervised_dataset(x, labels, *, batch_size, labelled_per_batch=None, seed=0):
    """Batches that mix unlabelled examples with a fixed number of labelled ones.

    With 100 labels among 60,000 images, batches drawn at random would hold
    a labelled example once in six batches of 100; semi-supervised models
    (``m2``, a conditional ``aae``) learn from labels when every batch has
    some. Each epoch visits every unlabelled example once, in a new order,
    ``batch_size - labelled_per_batch`` per batch; every batch adds
    ``labelled_per_batch`` labelled examples drawn from a reshuffled stream
    of the labelled set (each labelled example recurs many times an epoch).

    Args:
        x: Array of inputs, first axis the examples.
        labels: Integer labels ``(n,)``: a class, or ``-1`` for an unlabelled
            example; at least one of each kind.
        batch_size: Examples per batch, at least 2.
        labelled_per_batch: Labelled examples in each batch, from 1 to
            ``batch_size - 1``; default ``batch_size // 2``.
        seed: Non-negative integer seeding both shuffles.

    Returns:
        A ``tf.data.Dataset`` of ``(x_batch, labels_batch)`` pairs (labels
        ``int32``, ``-1`` for the unlabelled part), for ``model.fit``.

    Raises:
        ValueError: If an argument is invalid: labels of another length than
            ``x``, not integers, below -1, or with no labelled or no unlabelled
            example.

    Example:

    ```python
    labels = np.full(len(y_train), -1)
    keep = keras_ae.evaluation.labelled_subset(y_train, 10)   # 10 per class
    labels[keep] = y_train[keep]
    data = keras_ae.data.semi_supervised_dataset(x_train, labels, batch_size=100)
    model.fit(data, epochs=10)
    ```
    """
    tf = _tensorflow()
    x = _check_examples("x", x)
    labels = _check_examples("labels", labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != len(x):
        raise _invalid_array("labels", f"a 1-D array of {len(x)} integer labels (one per example of x, -1 for "
                             "unlabelled)", labels, f"of {labels.dtype}")
    if labels.min() < -1:
        raise _invalid_array("labels", "class labels, or -1 for an unlabelled example", labels,
                             f"with a minimum of {labels.min()}")
    labelled = np.flatnonzero(labels >= 0)
    unlabelled = np.flatnonzero(labels < 0)
    if not len(labelled) or not len(unlabelled):
        raise _invalid_array("labels", "at least one labelled (>= 0) and one unlabelled (-1) example", labels,
                             f"with {len(labelled)} labelled and {len(unlabelled)} unlabelled")
    batch_size = check_int("batch_size", batch_size, minimum=2)
    if labelled_per_batch is None:
        labelled_per_batch = batch_size // 2
    if not _is_int(labelled_per_batch) or not 1 <= labelled_per_batch < batch_size:
        raise invalid("labelled_per_batch", f"an integer from 1 to batch_size - 1 = {batch_size - 1}",
                      labelled_per_batch)
    seed = check_int("seed", seed, minimum=0)

    xs = tf.constant(x)
    ys = tf.constant(labels.astype("int32"))
    unlabelled_batches = (
        tf.data.Dataset.from_tensor_slices(unlabelled)
        .shuffle(len(unlabelled), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size - labelled_per_batch)
    )
    labelled_batches = (
        tf.data.Dataset.from_tensor_slices(labelled)
        .shuffle(len(labelled), seed=seed + 1, reshuffle_each_iteration=True)
        .repeat()
        .batch(labelled_per_batch)
    )

    def gather(unlabelled_idx, labelled_idx):
        idx = tf.concat([labelled_idx, unlabelled_idx], axis=0)
        return tf.gather(xs, idx), tf.gather(ys, idx)

    return (
        tf.data.Dataset.zip((unlabelled_batches, labelled_batches))
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


# --------------------------------------------------------------------------
# Anomaly-detection datasets


def load_odds(name, *, download=False):
    """Loads an ODDS outlier-detection benchmark as a feature matrix and labels.

    ODDS, the Outlier Detection DataSets library of Shebuti Rayana (2016),
    recasts classification datasets of the UCI repository for outlier
    detection: some classes are the inliers, and a few (or down-sampled)
    examples of the other classes are the outliers. Three are known here:

    | name          | rows   | features | outliers       | from (UCI)                   |
    |---------------|-------:|---------:|---------------:|------------------------------|
    | `"cardio"`    |  1831  |      21  |   176 (9.6 %)  | Cardiotocography             |
    | `"satellite"` |  6435  |      36  |  2036 (31.6 %) | Statlog (Landsat Satellite)  |
    | `"shuttle"`   | 49097  |       9  |  3511 (7.2 %)  | Statlog (Shuttle)            |

    * ``cardio``: fetal heart-rate and uterine-contraction measurements of
      cardiotocograms; the normal class are the inliers and the pathologic
      class the outliers (the suspect class is left out). ODDS stores the
      columns already standardized (mean 0, standard deviation 1).
    * ``satellite``: the 4 spectral bands of the 3x3 pixel neighbourhood of a
      Landsat image (36 integers 0..255); the three smallest classes are the
      outliers.
    * ``shuttle``: 9 integer sensor attributes of the space shuttle; class 1
      is the inliers, classes 2, 3, 5, 6 and 7 the outliers (class 4 is left
      out).

    The file is read from ``$KERAS_HOME/datasets/odds/{name}.mat`` (the
    ``.mat`` file as ODDS publishes it: a matrix ``X`` and a column ``y``).
    The features are returned as stored, not scaled. A readable file whose
    size or outlier count differs from the official one is loaded with a
    ``UserWarning``; a file that is not an ODDS ``.mat`` file raises
    ``OSError``. An existing file is never replaced.

    Args:
        name: ``"cardio"``, ``"satellite"`` or ``"shuttle"``.
        download: If ``True`` and the file is missing, it is fetched from
            the link on its ODDS page (20 s socket timeout) and kept only
            if its SHA-256 digest is that of the official file. Off by
            default: nothing leaves the machine unless you ask for it.

    Returns:
        ``(x, y)``: ``x`` a ``float64`` array ``(n, d)`` of features, ``y``
        an ``int64`` array ``(n,)`` with 1 for an outlier and 0 for an
        inlier. There is no train/test split; outlier detectors are usually
        fitted and scored on all rows, without the labels.

    Raises:
        ValueError: If ``name`` is unknown (the message suggests the closest
            name) or ``download`` is not a bool.
        FileNotFoundError: If the file is not in the cache (and could not be
            downloaded). The message names the expected path and the ODDS
            page to download it from.
        OSError: If the file is not an ODDS ``.mat`` file (unreadable, no
            ``X``/``y``, labels other than 0/1, non-finite values).

    Example:

    ```python
    from keras_ae import data

    x, y = data.load_odds("cardio")
    x.shape, int(y.sum())  # ((1831, 21), 176)
    ```

    References:
        Shebuti Rayana (2016). ODDS Library. Stony Brook University,
        Department of Computer Science. http://odds.cs.stonybrook.edu.
        The underlying data come from the UCI Machine Learning Repository
        (Dua and Graff, http://archive.ics.uci.edu/ml). Terms: research use;
        cite ODDS and the UCI dataset.
    """
    name = check_choice("name", name, _ODDS)
    download = _check_bool("download", download)
    spec = _ODDS[name]
    path = os.path.join(_cache_dir(), "odds", f"{name}.mat")
    _require(
        path,
        spec.url,
        download,
        sha256=spec.sha256,
        what=f"The ODDS file {name}.mat",
        source=f"its ODDS page {spec.page} (direct link: {spec.url})",
        call=f"load_odds({name!r}, download=True)",
    )
    return _read_odds(path, name, spec)


def load_nab(name, *, download=False):
    """Loads an artificial series of the Numenta Anomaly Benchmark (NAB).

    These are the two series of the keras.io example "Timeseries anomaly
    detection using an Autoencoder": ``"art_daily_small_noise"`` (a daily
    pattern with small noise and no anomaly, for training) and
    ``"art_daily_jumpsup"`` (the same pattern with an upward jump, for
    testing). Each has 4032 values at 5-minute steps, from 2014-04-01
    00:00:00 to 2014-04-14 23:55:00 (14 days of 288 steps).

    The files are read from ``$KERAS_HOME/datasets/nab/`` in the layout of
    the ``data/`` folder of the NAB repository:
    ``nab/artificialNoAnomaly/art_daily_small_noise.csv`` and
    ``nab/artificialWithAnomaly/art_daily_jumpsup.csv`` (CSV with the header
    ``timestamp,value``). An existing file is never replaced.

    The labels are NAB's anomaly windows for the file (from NAB's
    ``labels/combined_windows.json``): every timestamp inside a window, both
    ends included, is labelled 1. ``art_daily_jumpsup`` has one window,
    2014-04-10 16:15:00 to 2014-04-12 01:45:00 (403 points, 10 % of the
    series, around the jump); ``art_daily_small_noise`` has none.

    Args:
        name: ``"art_daily_small_noise"`` or ``"art_daily_jumpsup"``.
        download: If ``True`` and the file is missing, it is fetched from
            ``https://raw.githubusercontent.com/numenta/NAB/master/data/``
            (20 s socket timeout) and kept only if its SHA-256 digest is
            that of the official file. Off by default.

    Returns:
        ``(timestamps, values, labels)``, each of shape ``(n,)``:
        ``timestamps`` as ``datetime64[s]`` (no time zone, as in the file),
        ``values`` as ``float64`` and ``labels`` as ``int64`` (1 inside an
        anomaly window, else 0).

    Raises:
        ValueError: If ``name`` is unknown (the message suggests the closest
            name) or ``download`` is not a bool.
        FileNotFoundError: If the file is not in the cache (and could not be
            downloaded). The message names the expected path and the URL.
        OSError: If the file is not a NAB data file (wrong header, a bad
            timestamp or value, timestamps not increasing).

    Example:

    ```python
    from keras_ae import data

    _, train, _ = data.load_nab("art_daily_small_noise")
    timestamps, test, labels = data.load_nab("art_daily_jumpsup")
    train.shape, int(labels.sum())  # ((4032,), 403)
    ```

    References:
        Alexander Lavin and Subutai Ahmad (2015). Evaluating Real-Time
        Anomaly Detection Algorithms: the Numenta Anomaly Benchmark. IEEE
        ICMLA. Data: https://github.com/numenta/NAB (MIT licence since
        December 2024, AGPL-3.0 before).
    """
    name = check_choice("name", name, _NAB)
    download = _check_bool("download", download)
    folder, sha256, windows = _NAB[name]
    relative = f"{folder}/{name}.csv"
    path = os.path.join(_cache_dir(), "nab", folder, f"{name}.csv")
    url = _NAB_ORIGIN + relative
    _require(
        path,
        url,
        download,
        sha256=sha256,
        what=f"The NAB series {relative}",
        source=url,
        call=f"load_nab({name!r}, download=True)",
    )
    timestamps, values = _read_nab(path, url)
    if len(values) != _NAB_ROWS:
        warnings.warn(
            f"{path} has {len(values)} rows; the official file has {_NAB_ROWS}. It is loaded as it is, "
            "and its labels may be incomplete.",
            UserWarning,
            stacklevel=2,
        )
    labels = np.zeros(len(timestamps), dtype=np.int64)
    for start, end in windows:
        inside = (timestamps >= np.datetime64(start, "s")) & (timestamps <= np.datetime64(end, "s"))
        labels[inside] = 1
    return timestamps, values, labels


def telemanom_channels(spacecraft=None, *, download=False):
    """Lists the labelled channels of the NASA SMAP/MSL telemetry (telemanom).

    The channels are the ``chan_id`` values of ``labeled_anomalies.csv``,
    read from ``$KERAS_HOME/datasets/telemanom/labeled_anomalies.csv``. The
    CSV has 82 rows for 81 channels (P-2 is listed twice; see
    :func:`load_telemanom`): 54 SMAP and 27 MSL channels. Channel T-10 has
    telemetry in ``data.zip`` but no row, hence no labels, and is not
    listed.

    Args:
        spacecraft: ``None`` for every channel, ``"SMAP"`` (Soil Moisture
            Active Passive satellite) or ``"MSL"`` (Mars Science Laboratory
            rover, Curiosity).
        download: If ``True`` and the CSV is missing, it is fetched from the
            telemanom repository (20 s socket timeout) and kept only if its
            SHA-256 digest is that of the known file. Off by default.

    Returns:
        A sorted list of channel ids, e.g. ``['A-1', 'A-2', ...]``.

    Raises:
        ValueError: If ``spacecraft`` or ``download`` is invalid.
        FileNotFoundError: If the CSV is not in the cache (and could not be
            downloaded). The message names the expected path and the URL.
        OSError: If the CSV is not the telemanom labels file.

    Example:

    ```python
    from keras_ae import data

    len(data.telemanom_channels())        # 81
    data.telemanom_channels("MSL")[:3]    # ['C-1', 'C-2', 'D-14']
    ```
    """
    spacecraft = _check_spacecraft(spacecraft)
    download = _check_bool("download", download)
    rows = _read_telemanom_labels(download)
    return sorted(
        channel for channel, row in rows.items()
        if spacecraft is None or row.spacecraft == spacecraft
    )


def load_telemanom(channel, *, download=False):
    """Loads one channel of the NASA SMAP/MSL spacecraft telemetry (telemanom).

    The telemetry of Hundman et al. (2018): 82 channels of the SMAP
    satellite and the MSL rover, each a training series without labelled
    anomalies and a test series with expert-labelled anomalous intervals.
    Each row is one time step; **column 0 is the telemetry value** (scaled
    by the publishers; mostly within ``[-1, 1]``, but not bounded) and the
    other columns are one-hot encoded commands sent to the spacecraft (0 or
    1): SMAP channels have 25 columns, MSL channels 55.

    Files, in ``$KERAS_HOME/datasets/telemanom/``:

    * ``labeled_anomalies.csv`` (columns ``chan_id``, ``spacecraft``,
      ``anomaly_sequences``, ``class``, ``num_values``);
    * ``data/train/<channel>.npy`` and ``data/test/<channel>.npy``. When
      ``data/`` is missing but ``data.zip`` (the official archive) is
      there, the ``.npy`` files are extracted from it on first use: into a
      temporary directory first, then moved into place in one step;
      members with unsafe paths make the archive refused, and an existing
      ``data/`` is never written into.

    Labels: ``y_test[i] = 1`` when time step ``i`` of the test series lies in
    one of the channel's ``anomaly_sequences`` intervals ``[start, end]``,
    both ends included (as telemanom uses them). Quirks of the published
    CSV, handled here:

    * **P-2 is listed twice** (lines 19 and 53) with overlapping intervals,
      ``[[5350, 6575]]`` and ``[[5300, 6420]]``; both rows say SMAP and
      ``num_values`` 8209. The labels are the union of the two rows'
      intervals (time steps 5300..6575). Rows of one channel that disagree
      on the spacecraft or ``num_values`` raise ``OSError``.
    * **T-10** has telemetry but no row, so it has no labels: asking for it
      raises ``ValueError`` (so does any other channel with arrays but no
      row). It is not listed by :func:`telemanom_channels`.
    * ``num_values`` must equal the length of the test series, else the
      files do not belong together and ``OSError`` is raised.

    Args:
        channel: A labelled channel id such as ``"P-1"`` or ``"M-6"``, one
            of :func:`telemanom_channels`.
        download: If ``True``, a missing ``labeled_anomalies.csv`` is fetched
            from the telemanom repository (kept only if its SHA-256 digest
            is the known one) and a missing ``data.zip`` from the telemanom
            S3 bucket (173 MB of arrays once extracted), with a 20 s socket
            timeout; the archive is kept next to ``data/``. Off by default.

    Returns:
        ``(x_train, x_test, y_test)``: ``x_train`` ``float64`` ``(n, d)``,
        ``x_test`` ``float64`` ``(m, d)`` and ``y_test`` ``int64`` ``(m,)``
        with 1 inside a labelled anomaly, else 0.

    Raises:
        ValueError: If ``channel`` is not a labelled channel (an unknown id
            gets the closest suggestion; T-10 is explained) or ``download``
            is not a bool.
        FileNotFoundError: If the CSV or the channel's arrays (or
            ``data.zip``) are not in the cache. The message names the
            expected paths and the URLs.
        OSError: If a file is damaged or the files disagree (see above), or
            ``data.zip`` is not a safe telemanom archive.

    Example:

    ```python
    from keras_ae import data

    x_train, x_test, y_test = data.load_telemanom("P-1")
    x_train.shape, x_test.shape, int(y_test.sum())  # ((2872, 25), (8505, 25), 751)
    value = x_test[:, 0]  # the telemetry itself; columns 1: are commands
    ```

    References:
        Kyle Hundman, Valentino Constantinou, Christopher Laporte, Ian
        Colwell and Tom Soderstrom (2018). Detecting Spacecraft Anomalies
        Using LSTMs and Nonparametric Dynamic Thresholding. KDD 2018.
        Data and code: https://github.com/khundman/telemanom (released
        with the paper under a Caltech/JPL copyright notice; cite the
        paper).
    """
    if not isinstance(channel, str) or not channel:
        raise invalid(
            "channel", "a telemanom channel id such as 'P-1' (see telemanom_channels())", channel
        )
    download = _check_bool("download", download)
    rows = _read_telemanom_labels(download)
    row = rows.get(channel)
    if row is None:
        if channel in _TELEMANOM_UNLABELLED or _telemanom_has_arrays(channel):
            raise invalid(
                "channel",
                "a labelled channel, one of telemanom_channels()",
                channel,
                f"{channel} has telemetry arrays but no row in labeled_anomalies.csv, so it "
                "has no anomaly labels; telemanom_channels() leaves it out",
            )
        check_choice("channel", channel, rows)
    x_train, x_test = _read_telemanom_arrays(channel, download)
    csv_path = os.path.join(_telemanom_dir(), "labeled_anomalies.csv")
    test_path = os.path.join(_telemanom_dir(), "data", "test", f"{channel}.npy")
    lines = " and ".join(str(line) for line in row.lines)
    if len(x_test) != row.num_values:
        raise OSError(
            f"The telemanom files disagree: {csv_path} (line {lines}) gives num_values="
            f"{row.num_values} for {channel}, but {test_path} has {len(x_test)} time steps. "
            f"Replace them with the official files ({_TELEMANOM_CSV_URL}, {_TELEMANOM_ZIP_URL})."
        )
    y_test = np.zeros(len(x_test), dtype=np.int64)
    for start, end in row.sequences:
        if end >= len(x_test):
            raise OSError(
                f"The telemanom files disagree: {csv_path} (line {lines}) labels time steps "
                f"{start}..{end} of {channel}, but {test_path} has only {len(x_test)}. "
                f"Replace them with the official files ({_TELEMANOM_CSV_URL}, {_TELEMANOM_ZIP_URL})."
            )
        y_test[start:end + 1] = 1
    return x_train, x_test, y_test


def load_novelty(name, normal_class, *, flatten=False, limit=None, seed=0, download=False):
    """Loads an image dataset as a one-class novelty-detection task.

    The usual one-class protocol (e.g. Ruff et al., Deep SVDD, 2018): one
    class is "normal"; a model is trained on the normal training images
    only and scored on the whole test split, where every other class is an
    anomaly. The images come from :func:`load` (same files, scaling, digits
    split and ``seed``).

    Args:
        name: ``"digits"``, ``"mnist"`` or ``"fashion_mnist"``.
        normal_class: Integer 0..9, the class treated as normal.
        flatten: If ``True``, each image becomes a vector (as in
            :func:`load`).
        limit: ``None`` for every example, or the maximum number of examples
            in each returned split: a seeded random subset (original order
            kept) of the normal training images, and the same test subset
            as ``load(name, limit=limit, seed=seed)``.
        seed: Non-negative integer, as in :func:`load`.
        download: As in :func:`load` (MNIST and Fashion-MNIST only).

    Returns:
        ``(x_train, (x_test, y_test))``. ``x_train`` holds only the training
        images of ``normal_class``; ``x_test`` is the whole test split;
        both are ``float32`` in ``[0, 1]`` shaped like the images of
        :func:`load`. ``y_test`` is ``int64`` ``(m,)`` with 1 for an anomaly
        (a class other than ``normal_class``) and 0 for a normal image, so
        about 90 % of the test images are anomalies. For MNIST with
        ``normal_class=0``: 5923 training images, 10000 test images of which
        9020 are anomalies.

    Raises:
        ValueError: If an argument is invalid (an unknown name suggests the
            closest; ``normal_class`` must be an integer in 0..9).
        FileNotFoundError: If a dataset file is missing (see :func:`load`).
        OSError: If a cached file is damaged (see :func:`load`).

    Example:

    ```python
    from keras_ae import data

    x_train, (x_test, y_test) = data.load_novelty("digits", 3, flatten=True)
    x_train.shape, x_test.shape, int(y_test.sum())  # ((146, 64), (360, 64), 323)
    ```
    """
    name = check_choice("name", name, _NOVELTY_DATASETS)
    if not _is_int(normal_class) or not 0 <= normal_class <= 9:
        raise invalid("normal_class", "an integer class label in 0..9", normal_class)
    normal_class = int(normal_class)
    if limit is not None:
        if not _is_int(limit) or limit < 1:
            raise invalid("limit", "a positive integer or None", limit)
        limit = int(limit)
    (x_train, y_train), (x_test, y_test) = load(
        name, flatten=flatten, seed=seed, download=download
    )
    x_train = x_train[y_train == normal_class]
    x_train = x_train[_subset(len(x_train), limit, seed, _STREAM_TRAIN_SUBSET)]
    test_idx = _subset(len(x_test), limit, seed, _STREAM_TEST_SUBSET)
    y_test = (y_test[test_idx] != normal_class).astype(np.int64)
    return x_train, (x_test[test_idx], y_test)


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


def _download(path, origin=None, *, sha256=None):
    """Tries to download a missing cache file to ``path``; returns success.

    Fetches ``origin`` (by default the Keras origin of the file's name, as
    ``keras.datasets`` does) with ``keras.utils.get_file`` and a socket
    timeout, so that an offline machine fails within seconds instead of
    hanging. The file is fetched into a temporary directory beside ``path``,
    checked against ``sha256`` when one is given, and only then moved into
    place, and only if ``path`` is still absent: an existing file is never
    replaced, and a failed, interrupted or mismatching download leaves
    nothing behind (directories created for it are removed again).
    """
    import socket

    import keras

    origin = origin or _ORIGIN + os.path.basename(path)
    directory = os.path.dirname(path)
    new_dirs = []  # directories created here, removed again on failure
    parent = directory
    while not os.path.isdir(parent):
        new_dirs.append(parent)
        parent = os.path.dirname(parent)
    previous = socket.getdefaulttimeout()
    staging = None
    placed = False
    try:
        os.makedirs(directory, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".download-", dir=directory)
        socket.setdefaulttimeout(20)
        fetched = keras.utils.get_file(
            os.path.basename(path), origin=origin, cache_dir=staging, cache_subdir=""
        )
        if sha256 is None or _sha256(fetched) == sha256:
            placed = _place(fetched, path)
    except Exception:  # offline, refused, interrupted: report the missing file
        placed = False
    finally:
        socket.setdefaulttimeout(previous)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not placed:
            for new_dir in new_dirs:  # deepest first
                if os.path.isdir(new_dir) and not os.listdir(new_dir):
                    os.rmdir(new_dir)
    return placed


def _place(source, path):
    """Moves ``source`` to ``path`` unless ``path`` exists; returns whether it is there."""
    try:
        os.link(source, path)  # fails if `path` exists: nothing is replaced
    except FileExistsError:
        pass
    except OSError:  # no hard links on this file system
        if not os.path.exists(path):
            os.rename(source, path)
    return os.path.isfile(path)


def _seed_hint(module, *, tried=False, existing=False):
    """How to put the official files in the cache, for what just happened.

    ``tried``: a download was attempted and failed; ``existing``: a cached
    file is wrong (and is never replaced, so it must be moved aside first).
    """
    elsewhere = (
        f"run keras.datasets.{module}.load_data() on a machine with internet access "
        "(it saves them in its cache, by default ~/.keras/datasets/) and copy "
        "them over."
    )
    if tried:
        first = ("Downloading with download=True failed (no network access?) and wrote "
                 f"nothing. To get the files, {elsewhere}")
    elif existing:
        first = ("keras_ae never replaces a cached file: move this one aside, then call "
                 f"load(..., download=True) or {elsewhere}")
    else:
        first = f"To fetch the files, call load(..., download=True) or {elsewhere}"
    return (f"{first} To use another cache, set KERAS_HOME; the files go in its "
            "datasets/ subdirectory. See data/README.md.")


def _load_mnist(download=False):
    path = os.path.join(_cache_dir(), "mnist.npz")
    if not os.path.isfile(path) and not (download and _download(path)):
        raise FileNotFoundError(
            f"MNIST is not in the Keras cache: expected the file {path}. "
            f"Copy the official mnist.npz ({_ORIGIN}mnist.npz, SHA-256 "
            f"{_MNIST_SHA256}) to that path. {_seed_hint('mnist', tried=download)}"
        )
    digest = _sha256(path)
    if digest != _MNIST_SHA256:
        raise OSError(
            f"The file {path} is not the official mnist.npz: its SHA-256 is "
            f"{digest}, expected {_MNIST_SHA256}. Replace it with the official "
            f"file. {_seed_hint('mnist', existing=True)}"
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
            f"({_ORIGIN}<file name>) there. {_seed_hint('fashion_mnist', tried=download)}"
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
# Anomaly-detection helpers


def _require(path, origin, download, *, what, source, call, sha256=None):
    """Makes sure ``path`` is a file: downloads it if asked, else raises.

    An existing file is returned as it is (never downloaded again); a
    missing one is fetched only when ``download`` is true. The error names
    the expected path and where the file comes from.
    """
    if os.path.isfile(path):
        return path
    tried = ""
    if download:
        if _download(path, origin, sha256=sha256):
            return path
        tried = (
            f"Downloading it from {origin} failed (no network access, refused, interrupted, "
            "or not the expected file); nothing was written. "
        )
    how = "" if download else f", or call {call}"
    raise FileNotFoundError(
        f"{what} is not in the cache: expected the file {path}. {tried}"
        f"Download it from {source} and save it at that path{how}. "
        "To use another cache, set KERAS_HOME; the files go in its datasets/ "
        "subdirectory. See data/README.md."
    )


def _read_odds(path, name, spec):
    import scipy.io

    fix = f"Replace it with {name}.mat from its ODDS page {spec.page}."
    try:
        contents = scipy.io.loadmat(path)
    except Exception as error:  # noqa: BLE001 - scipy raises many types for a bad file
        raise OSError(f"Could not read {path} as a MATLAB .mat file ({error}). {fix}") from error
    x, y = contents.get("X"), contents.get("y")
    problem = None
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        problem = "it has no matrices 'X' and 'y'"
    elif x.ndim != 2 or 0 in x.shape or x.dtype.kind not in "biuf":
        problem = f"'X' is not a non-empty 2-D numeric matrix (shape {x.shape}, dtype {x.dtype})"
    elif y.size != len(x) or y.dtype.kind not in "biuf":
        problem = f"'y' does not hold one numeric label per row of 'X' ({y.size} labels, {len(x)} rows)"
    elif not np.all((y == 0) | (y == 1)):
        problem = "'y' holds values other than 0 (inlier) and 1 (outlier)"
    elif not np.all(np.isfinite(x)):
        problem = "'X' holds NaN or infinite values"
    if problem:
        raise OSError(f"{path} is not an ODDS .mat file: {problem}. {fix}")
    x = x.astype(np.float64)
    y = y.reshape(-1).astype(np.int64)
    found = (x.shape[0], x.shape[1], int(y.sum()))
    if found != spec.shape:
        warnings.warn(
            f"{path} has {found[0]} rows, {found[1]} features and {found[2]} outliers; the "
            f"official ODDS {name}.mat has {spec.shape[0]}, {spec.shape[1]} and {spec.shape[2]}. "
            "It is loaded as it is.",
            UserWarning,
            stacklevel=3,
        )
    return x, y


def _read_nab(path, url):
    """Reads a NAB data file (``timestamp,value``) as datetime64[s] and float64."""
    fix = f"Replace it with the file from {url}."
    stamps, values = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header != ["timestamp", "value"]:
                raise OSError(
                    f"{path} is not a NAB data file: its header is {header!r}, expected "
                    f"['timestamp', 'value']. {fix}"
                )
            for row in reader:
                try:
                    if len(row) != 2:
                        raise ValueError(f"{len(row)} fields instead of 2")
                    stamps.append(np.datetime64(row[0], "s"))
                    values.append(float(row[1]))
                except ValueError as error:
                    raise OSError(
                        f"{path} is not a NAB data file: line {reader.line_num} ({','.join(row)!r}) "
                        f"is not a timestamp and a number ({error}). {fix}"
                    ) from error
    except (UnicodeDecodeError, csv.Error) as error:
        raise OSError(f"Could not read {path} as a CSV text file ({error}). {fix}") from error
    timestamps = np.array(stamps, dtype="datetime64[s]")
    values = np.array(values, dtype=np.float64)
    problem = None
    if not len(values):
        problem = "it has no rows"
    elif not np.all(np.isfinite(values)):
        problem = "it holds NaN or infinite values"
    elif np.any(np.diff(timestamps) <= np.timedelta64(0, "s")):
        problem = "its timestamps are not strictly increasing"
    if problem:
        raise OSError(f"{path} is not a NAB data file: {problem}. {fix}")
    return timestamps, values


def _check_spacecraft(value):
    if value is None or value in _TELEMANOM_SPACECRAFT:
        return value
    hint = suggest(value, _TELEMANOM_SPACECRAFT)
    if not hint and isinstance(value, str) and value.upper() in _TELEMANOM_SPACECRAFT:
        hint = f"Did you mean '{value.upper()}'?"
    raise invalid("spacecraft", f"None or one of {list(_TELEMANOM_SPACECRAFT)}", value, hint)


def _telemanom_dir():
    return os.path.join(_cache_dir(), "telemanom")


def _read_telemanom_labels(download):
    """Reads labeled_anomalies.csv as ``{chan_id: _TelemanomRow}``.

    Rows of one channel (P-2 is listed twice) are merged: their intervals
    are pooled, and they must agree on the spacecraft and ``num_values``.
    """
    path = os.path.join(_telemanom_dir(), "labeled_anomalies.csv")
    _require(
        path,
        _TELEMANOM_CSV_URL,
        download,
        sha256=_TELEMANOM_CSV_SHA256,
        what="The telemanom labels file labeled_anomalies.csv",
        source=_TELEMANOM_CSV_URL,
        call="telemanom_channels(download=True) or load_telemanom(..., download=True)",
    )
    fix = f"Replace it with the file from {_TELEMANOM_CSV_URL}."
    rows = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = sorted(set(_TELEMANOM_COLUMNS) - set(reader.fieldnames or ()))
            if missing:
                raise OSError(
                    f"{path} is not the telemanom labels file: it has no column(s) {missing}. {fix}"
                )
            for record in reader:
                line = reader.line_num
                try:
                    channel = record["chan_id"].strip()
                    spacecraft = record["spacecraft"].strip()
                    sequences = json.loads(record["anomaly_sequences"])
                    num_values = int(record["num_values"])
                    if not channel or spacecraft not in _TELEMANOM_SPACECRAFT:
                        raise ValueError("no chan_id, or a spacecraft other than SMAP and MSL")
                    if not isinstance(sequences, list) or not all(
                        isinstance(s, list) and len(s) == 2
                        and all(_is_int(v) for v in s) and 0 <= s[0] <= s[1]
                        for s in sequences
                    ):
                        raise ValueError("anomaly_sequences is not a list of [start, end] index pairs")
                except (AttributeError, TypeError, ValueError) as error:
                    raise OSError(
                        f"{path}, line {line}, is not a telemanom label row ({error}). {fix}"
                    ) from error
                sequences = [(int(start), int(end)) for start, end in sequences]
                previous = rows.get(channel)
                if previous is None:
                    rows[channel] = _TelemanomRow(spacecraft, num_values, sequences, [line])
                    continue
                if (previous.spacecraft, previous.num_values) != (spacecraft, num_values):
                    raise OSError(
                        f"{path} lists {channel} on lines {previous.lines[0]} and {line} with "
                        f"different spacecraft or num_values ({previous.spacecraft}, "
                        f"{previous.num_values} and {spacecraft}, {num_values}). {fix}"
                    )
                previous.sequences.extend(sequences)
                previous.lines.append(line)
    except (UnicodeDecodeError, csv.Error) as error:
        raise OSError(f"Could not read {path} as a CSV text file ({error}). {fix}") from error
    if not rows:
        raise OSError(f"{path} is not the telemanom labels file: it has no rows. {fix}")
    count = sum(len(row.lines) for row in rows.values())
    if count != _TELEMANOM_CSV_ROWS:
        warnings.warn(
            f"{path} has {count} rows; the current official file has {_TELEMANOM_CSV_ROWS} (older "
            "copies with 81 rows and shifted indices also circulate). It is read as it is.",
            UserWarning,
            stacklevel=3,
        )
    return rows


def _telemanom_has_arrays(channel):
    if not _TELEMANOM_MEMBER_NAME.fullmatch(f"{channel}.npy"):
        return False
    data_dir = os.path.join(_telemanom_dir(), "data")
    return any(os.path.isfile(os.path.join(data_dir, split, f"{channel}.npy")) for split in ("train", "test"))


def _read_telemanom_arrays(channel, download):
    base = _telemanom_dir()
    data_dir = os.path.join(base, "data")
    zip_path = os.path.join(base, "data.zip")
    extracted = tried = False
    if not os.path.isdir(data_dir):
        if not os.path.isfile(zip_path) and download:
            tried = not _download(zip_path, _TELEMANOM_ZIP_URL)
        if os.path.isfile(zip_path):
            _extract_telemanom(zip_path, data_dir)
            extracted = True
    paths = [os.path.join(data_dir, split, f"{channel}.npy") for split in ("train", "test")]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        if extracted:
            detail = (
                f"{zip_path} was extracted to {data_dir}{os.sep} but does not hold them; "
                f"replace it with the official archive ({_TELEMANOM_ZIP_URL}) and remove {data_dir}."
            )
        elif os.path.isdir(data_dir):
            detail = (
                f"The directory {data_dir}{os.sep} exists, so no archive is extracted over it "
                "(nothing in the cache is ever replaced): copy the files there from the official "
                f"data.zip ({_TELEMANOM_ZIP_URL}), or remove the directory to have {zip_path} "
                "extracted again."
            )
        else:
            detail = (
                f"Neither {data_dir}{os.sep} nor the archive {zip_path} that holds them is there. "
                + (f"Downloading {_TELEMANOM_ZIP_URL} failed (no network access, refused or "
                   "interrupted); nothing was written. " if tried else "")
                + f"Download data.zip from {_TELEMANOM_ZIP_URL} and save it at {zip_path} (it is "
                "extracted on first use)"
                + ("" if download else f", or call load_telemanom({channel!r}, download=True)")
                + ". To use another cache, set KERAS_HOME; the files go in its datasets/ subdirectory."
            )
        raise FileNotFoundError(
            f"The telemanom telemetry of channel {channel} is not in the cache: expected the "
            f"files {missing}. {detail} See data/README.md."
        )
    arrays = []
    for path in paths:
        fix = f"Replace it with the file from the official data.zip ({_TELEMANOM_ZIP_URL})."
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise OSError(f"Could not read {path} as a NumPy .npy file ({error}). {fix}") from error
        if not isinstance(array, np.ndarray):  # an .npz archive under an .npy name
            array.close()
            raise OSError(f"{path} is not a NumPy .npy array file. {fix}")
        if array.ndim != 2 or 0 in array.shape or array.dtype.kind not in "biuf":
            raise OSError(
                f"{path} is not a telemanom series: expected a non-empty 2-D numeric array, found "
                f"shape {array.shape} and dtype {array.dtype}. {fix}"
            )
        arrays.append(array.astype(np.float64, copy=False))
    x_train, x_test = arrays
    if x_train.shape[1] != x_test.shape[1]:
        raise OSError(
            f"The telemanom files of {channel} disagree: {paths[0]} has {x_train.shape[1]} columns "
            f"and {paths[1]} {x_test.shape[1]}. Replace them with the files from the official "
            f"data.zip ({_TELEMANOM_ZIP_URL})."
        )
    return x_train, x_test


def _extract_telemanom(zip_path, data_dir):
    """Extracts ``data/{train,test}/*.npy`` of the telemanom archive to ``data_dir``.

    The files are written into a fresh temporary directory beside
    ``data_dir``, which is then renamed to ``data_dir`` in one step, so a
    reader never sees a half-extracted directory and an interrupted
    extraction leaves nothing behind. Members whose path is absolute or
    climbs out (``..``) make the whole archive refused; other members
    (directories, the results folder) are skipped. If ``data_dir`` appears
    meanwhile, the existing one is kept and nothing in it is replaced.
    """
    fix = f"Replace it with the official archive ({_TELEMANOM_ZIP_URL})."
    staging = tempfile.mkdtemp(prefix=".data-extracting-", dir=os.path.dirname(data_dir))
    try:
        counts = {"train": 0, "test": 0}
        try:
            with zipfile.ZipFile(zip_path) as archive:
                for info in archive.infolist():
                    member = info.filename
                    parts = member.split("/")
                    if member.startswith("/") or "\\" in member or ":" in parts[0] or ".." in parts:
                        raise OSError(
                            f"{zip_path} is refused: its member {member!r} would be written outside "
                            f"the extraction directory. {fix}"
                        )
                    if len(parts) != 3 or parts[0] != "data" or parts[1] not in counts:
                        continue
                    if not _TELEMANOM_MEMBER_NAME.fullmatch(parts[2]):
                        continue
                    if stat.S_ISLNK(info.external_attr >> 16):
                        raise OSError(f"{zip_path} is refused: its member {member!r} is a symbolic link. {fix}")
                    target = os.path.join(staging, *parts)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    try:
                        with archive.open(info) as source, open(target, "xb") as copy:
                            shutil.copyfileobj(source, copy)
                    except FileExistsError as error:
                        raise OSError(f"{zip_path} is refused: it holds {member!r} twice. {fix}") from error
                    counts[parts[1]] += 1
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise OSError(f"Could not read {zip_path} as a zip archive ({error}). {fix}") from error
        if not all(counts.values()):
            raise OSError(
                f"{zip_path} is not the telemanom data.zip: it holds no data/train/*.npy or no "
                f"data/test/*.npy files. {fix}"
            )
        try:
            os.rename(os.path.join(staging, "data"), data_dir)
        except OSError:
            if not os.path.isdir(data_dir):
                raise
            # Another process extracted the archive first: keep its directory.
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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


# Re-exported here: keras_ae.data.load_movielens (the loader lives in keras_ae/_movielens.py).
from keras_ae._movielens import load_movielens  # noqa: E402

# Re-exported here: keras_ae.data.load_20newsgroups and NEWSGROUPS (they live in keras_ae/_newsgroups.py).
from keras_ae._newsgroups import NEWSGROUPS, load_20newsgroups  # noqa: E402
