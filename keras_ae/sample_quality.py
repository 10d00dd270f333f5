"""Sample quality of generative models, without downloadable Inception weights.

Measures for GANs, adversarial autoencoders and VAEs:

* :func:`frechet_distance` (and :func:`frechet_distance_from_moments`): the
  Fréchet distance between Gaussians fitted to two feature sets (Heusel et
  al., 2017). On the features of the in-project classifier below it is "FID
  on MNIST features", which is never comparable with an Inception FID.
* :func:`precision_recall`: improved precision (how many samples look real)
  and recall (how much of the real data is produced) of Kynkäänniemi et al.
  (2019).
* :func:`ring_data` and :func:`ring_modes`: the ring of Gaussians of the
  mode-collapse experiments (Metz et al., 2017; Srivastava et al., 2017), and
  the count of modes a generator covers.
* :func:`build_feature_network`, :func:`train_feature_network`,
  :func:`load_feature_network` and :func:`features`: a small CNN classifier
  trained here on MNIST or Fashion-MNIST, whose ``"features"`` layer gives
  the features of images.

Every function returns NumPy values (``float`` or ``float64`` arrays) and
refuses bad input with ``ValueError``. TensorFlow is imported only by the
feature-network functions.

Example:

```python
from keras_ae import sample_quality as sq

network = sq.load_feature_network("mnist")  # created once by tools/train_feature_network.py
fid = sq.frechet_distance(sq.features(network, x_test), sq.features(network, samples))
pr = sq.precision_recall(sq.features(network, x_test), sq.features(network, samples))
```
"""

import collections
import math
import os
import tempfile
import warnings

import numpy as np

from keras_ae import _validation as v

__all__ = [
    "TrainedFeatureNetwork",
    "build_feature_network",
    "features",
    "frechet_distance",
    "frechet_distance_from_moments",
    "load_feature_network",
    "precision_recall",
    "ring_data",
    "ring_modes",
    "train_feature_network",
]

#: Datasets a feature network is trained on by name (``keras_ae.data.load``).
_FEATURE_DATASETS = ("digits", "fashion_mnist", "mnist")
# Bound on the distance blocks of precision_recall, in MiB (scikit-learn's working_memory).
_WORKING_MEMORY_MIB = 256
# Added to the covariance diagonals when sqrtm fails on singular covariances.
_SQRTM_EPS = 1e-6

#: What :func:`train_feature_network` returns.
TrainedFeatureNetwork = collections.namedtuple("TrainedFeatureNetwork", "network test_accuracy path")


# --------------------------------------------------------------------------
# Fréchet distance


def _check_features(name, x, *, min_rows):
    v.check_array(name, x, finite=True)
    x = np.asarray(x, dtype="float64")
    if x.ndim != 2 or len(x) < min_rows or x.shape[1] < 1:
        raise v.invalid(name, f"a 2-D array of at least {min_rows} rows of features (examples, features)",
                        f"array of shape {x.shape}")
    return x


def frechet_distance_from_moments(mu_a, cov_a, mu_b, cov_b):
    """Fréchet distance between two Gaussians given by their means and covariances.

    ``d^2 = ||mu_a - mu_b||^2 + Tr(cov_a + cov_b - 2 (cov_a cov_b)^{1/2})``,
    the squared 2-Wasserstein distance between ``N(mu_a, cov_a)`` and
    ``N(mu_b, cov_b)`` (Dowson & Landau, 1982), which FID applies to features
    (Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to
    a Local Nash Equilibrium", NeurIPS 2017).

    The matrix square root is ``scipy.linalg.sqrtm``. Rounding can give it a
    tiny imaginary part; only the real part is kept. If it fails (singular
    covariances, for example features that are always zero), it is taken of
    the covariances with ``1e-6`` added to their diagonals, as in the
    reference implementation of FID. The result is clipped at 0, so rounding
    never makes it negative.

    Args:
        mu_a: Mean of the first Gaussian, shape ``(d,)``.
        cov_a: Its covariance, shape ``(d, d)``.
        mu_b: Mean of the second Gaussian, shape ``(d,)``.
        cov_b: Its covariance, shape ``(d, d)``.

    Returns:
        A non-negative ``float``, in squared units of the features.

    Raises:
        ValueError: If an argument is not a finite array of the shapes
            above, or the two Gaussians have different dimensions.

    Example:

    ```python
    d = 4
    frechet_distance_from_moments(np.zeros(d), np.eye(d), np.ones(d), 4 * np.eye(d))
    # 8.0: ||1||^2 = 4 for the means, d (1 - 2)^2 = 4 for the covariances
    ```
    """
    moments = {"mu_a": mu_a, "cov_a": cov_a, "mu_b": mu_b, "cov_b": cov_b}
    for name, value in moments.items():
        v.check_array(name, value, finite=True)
    mu_a, cov_a, mu_b, cov_b = (np.asarray(x, dtype="float64") for x in moments.values())
    if mu_a.ndim != 1 or mu_a.size == 0:
        raise v.invalid("mu_a", "a non-empty 1-D array (a mean)", f"array of shape {mu_a.shape}")
    d = mu_a.size
    for name, value, shape in (("cov_a", cov_a, (d, d)), ("mu_b", mu_b, (d,)), ("cov_b", cov_b, (d, d))):
        if value.shape != shape:
            raise v.invalid(name, f"an array of shape {shape} (the dimension of mu_a is {d})",
                            f"array of shape {value.shape}")
    for name, cov in (("cov_a", cov_a), ("cov_b", cov_b)):
        scale = max(float(np.abs(cov).max()), 1e-300)
        if not np.allclose(cov, cov.T, rtol=1e-6, atol=1e-9 * scale):
            raise v.invalid(name, "a symmetric matrix (a covariance)", v.Shown("<a non-symmetric array>"))
        lowest = float(np.linalg.eigvalsh(cov).min())
        if lowest < -1e-6 * scale:
            raise v.invalid(name, "a positive semi-definite matrix (a covariance)",
                            v.Shown(f"<an array with eigenvalue {lowest:.3g}>"))

    from scipy import linalg

    with warnings.catch_warnings():
        # sqrtm warns on singular products; its result is accurate there, and checked below.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(covmean)):
        offset = _SQRTM_EPS * np.eye(d)
        covmean = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    diff = mu_a - mu_b
    distance = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(np.real(covmean))
    return max(float(distance), 0.0)


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two sets of features.

    Fits a Gaussian to each set (the mean and the unbiased covariance of its
    rows) and returns :func:`frechet_distance_from_moments` of the two, as
    FID does (Heusel et al., NeurIPS 2017). The distance is symmetric, 0 for
    two sets of equal mean and covariance, and lower is better.

    On the features of the in-project classifier
    (:func:`load_feature_network`, :func:`features`) this is "FID on MNIST
    features" (or Fashion-MNIST features): it ranks models trained on that
    dataset, but it is never comparable with an FID computed on Inception
    features, nor with one computed with another feature network. It is
    biased upwards for small sets; compare models with sets of the same size
    (10 000 samples is the usual choice).

    Args:
        features_a: Array ``(n_a, d)``, one row of features per example
            (for example the features of real images).
        features_b: Array ``(n_b, d)`` with the same ``d`` (for example the
            features of generated images).

    Returns:
        A non-negative ``float``, in squared units of the features.

    Raises:
        ValueError: If a set is not a finite 2-D array of at least 2 rows,
            or the two sets have different numbers of features.

    Example:

    ```python
    network = keras_ae.sample_quality.load_feature_network("mnist")
    real = keras_ae.sample_quality.features(network, x_test)
    fake = keras_ae.sample_quality.features(network, samples)
    print(keras_ae.sample_quality.frechet_distance(real, fake))
    ```
    """
    a = _check_features("features_a", features_a, min_rows=2)
    b = _check_features("features_b", features_b, min_rows=2)
    if b.shape[1] != a.shape[1]:
        raise v.invalid("features_b", f"{a.shape[1]} features per row, as in features_a",
                        f"array of shape {b.shape}")
    moments = [(x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))) for x in (a, b)]
    return frechet_distance_from_moments(*moments[0], *moments[1])


# --------------------------------------------------------------------------
# Improved precision and recall


def _knn_radii(x, k):
    """Distance from each row of ``x`` to its k-th nearest other row."""
    from sklearn.neighbors import NearestNeighbors

    # The k + 1 nearest rows include the row itself, at distance 0.
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return distances[:, k]


def _inside(queries, points, radii):
    """Whether each query lies in at least one ball (``points``, ``radii``)."""
    from sklearn.metrics import pairwise_distances_chunked

    def reduce(block, start):
        return np.any(block <= radii[None, :], axis=1)

    chunks = pairwise_distances_chunked(queries, points, reduce_func=reduce, working_memory=_WORKING_MEMORY_MIB)
    return np.concatenate(list(chunks))


def precision_recall(real_features, fake_features, k=3):
    """Improved precision and recall of generated samples (Kynkäänniemi et al., 2019).

    Each set's manifold is estimated as the union of balls centred on its
    points, each ball of radius the distance from its point to the point's
    ``k``-th nearest neighbour in the same set (the point itself excluded).
    Then:

    * precision is the fraction of fake points inside the real manifold
      (how many samples look real: low when samples are poor);
    * recall is the fraction of real points inside the fake manifold (how
      much of the data the model produces: low under mode collapse).

    Kynkäänniemi, Karras, Laine, Lehtinen & Aila, "Improved Precision and
    Recall Metric for Assessing Generative Models", NeurIPS 2019. They use
    ``k = 3`` and 50 000 images per set of VGG-16 features; here the
    features are any (for example :func:`features` of the in-project
    classifier), so values are comparable only between runs with the same
    features, set sizes and ``k``. Distances are Euclidean and computed in
    blocks of at most 256 MiB, so 10 000 x 10 000 sets fit in memory.

    Read precision only with recall: a generator that collapsed to one
    plausible image scores a precision of 1.0 and a recall of 0.0 (measured
    on MNIST features: ``benchmarks/README.md``, section ``generative.py``),
    and samples of a model with a 2-D code, lying on a thin sheet of the
    feature space, score a high precision with a recall near 0 (tutorial 07).

    Args:
        real_features: Array ``(n_real, d)`` of features of real examples.
        fake_features: Array ``(n_fake, d)`` of features of generated
            examples, the same ``d``.
        k: Positive integer, the neighbour that sets the radii; each set
            needs more than ``k`` rows.

    Returns:
        ``{"precision": float, "recall": float}``, both in ``[0, 1]``.

    Raises:
        ValueError: If ``k`` is not a positive integer, a set is not a finite
            2-D array of more than ``k`` rows, or the sets have different
            numbers of features.

    Example:

    ```python
    pr = keras_ae.sample_quality.precision_recall(real, fake, k=3)
    print(pr["precision"], pr["recall"])
    ```
    """
    k = v.check_int("k", k)
    real = _check_features("real_features", real_features, min_rows=k + 1)
    fake = _check_features("fake_features", fake_features, min_rows=k + 1)
    if fake.shape[1] != real.shape[1]:
        raise v.invalid("fake_features", f"{real.shape[1]} features per row, as in real_features",
                        f"array of shape {fake.shape}")
    precision = _inside(fake, real, _knn_radii(real, k)).mean()
    recall = _inside(real, fake, _knn_radii(fake, k)).mean()
    return {"precision": float(precision), "recall": float(recall)}


# --------------------------------------------------------------------------
# The ring of Gaussians


def _ring_centres(modes, radius):
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def ring_data(n, modes=8, radius=2.0, std=0.02, seed=0):
    """Samples of a ring of Gaussians, the toy data of mode-collapse studies.

    A mixture of ``modes`` equally weighted isotropic Gaussians in 2-D, of
    standard deviation ``std``, centred on a circle of radius ``radius`` at
    angles ``2 pi i / modes``. The defaults are the ring of Metz et al.
    ("Unrolled Generative Adversarial Networks", ICLR 2017), also used by
    Srivastava et al. ("VEEGAN", NeurIPS 2017): 8 modes, radius 2, std 0.02.
    A GAN that collapses covers a few modes only; :func:`ring_modes` counts
    them.

    Args:
        n: Positive integer, the number of samples.
        modes: Positive integer, the number of Gaussians.
        radius: Positive number, the radius of the circle of centres.
        std: Positive number, the standard deviation of each Gaussian (in
            each coordinate).
        seed: Non-negative integer seeding the draws.

    Returns:
        A ``float32`` array of shape ``(n, 2)``. Each sample comes from a
        mode chosen uniformly at random.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    ```python
    x = keras_ae.sample_quality.ring_data(10_000, seed=0)
    x.shape  # (10000, 2)
    ```
    """
    n = v.check_int("n", n)
    modes = v.check_int("modes", modes)
    radius = v.check_float("radius", radius, low=0, low_open=True)
    std = v.check_float("std", std, low=0, low_open=True)
    seed = v.check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    centres = _ring_centres(modes, radius)
    which = rng.integers(modes, size=n)
    return (centres[which] + std * rng.standard_normal((n, 2))).astype("float32")


def ring_modes(samples, modes=8, radius=2.0, std=0.02, within=3.0, min_count=None):
    """Counts the modes of a ring of Gaussians that samples cover, and their quality.

    The measure of the ring experiments of Metz et al. (2017) and Srivastava
    et al. ("VEEGAN", 2017): each sample is assigned to its nearest centre;
    it is of high quality if it lies within ``within`` standard deviations
    of that centre (VEEGAN uses three); a mode is covered when at least
    ``min_count`` high-quality samples are assigned to it. VEEGAN evaluates
    2 500 samples of each model.

    Args:
        samples: Array ``(n, 2)`` of generated points.
        modes: Positive integer, the number of Gaussians of the ring (as in
            :func:`ring_data`).
        radius: Positive number, the radius of the circle of centres.
        std: Positive number, the standard deviation of each Gaussian.
        within: Positive number, the distance to the nearest centre, in
            units of ``std``, within which a sample is of high quality.
        min_count: ``None`` or a positive integer, the number of
            high-quality samples from which a mode counts as covered.
            ``None`` (the default) means one fifth of the samples that a
            perfect generator puts in each mode, ``ceil(0.2 * n / modes)``
            (at least 1): the fraction of PacGAN (Lin et al., NeurIPS 2018),
            who count a mode as lost below 20 of 2 500 samples on 25 modes.
            A mode that a generator dropped gets none or a few stray samples,
            one that it covers about ``n / modes``; a threshold at one fifth
            separates the two for any ``n`` and ``modes``. ``min_count=1``
            counts a mode as soon as a single sample lands in it.

    Returns:
        A dict: ``"modes_covered"``, the number of covered modes (an
        ``int``); ``"high_quality"``, the fraction of samples of high quality
        (a ``float`` in ``[0, 1]``); ``"per_mode"``, the list of the numbers
        of high-quality samples of each mode, in the order of the centres of
        :func:`ring_data`.

    Raises:
        ValueError: If an argument is invalid or ``samples`` is not a finite
            ``(n, 2)`` array with ``n >= 1``.

    Example:

    ```python
    result = keras_ae.sample_quality.ring_modes(generator.predict(z))
    print(result["modes_covered"], "of 8 modes,", result["high_quality"], "high quality")
    ```
    """
    v.check_array("samples", samples, finite=True)
    x = np.asarray(samples, dtype="float64")
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise v.invalid("samples", "an array of 2-D points of shape (n, 2) with n >= 1", f"array of shape {x.shape}")
    modes = v.check_int("modes", modes)
    radius = v.check_float("radius", radius, low=0, low_open=True)
    std = v.check_float("std", std, low=0, low_open=True)
    within = v.check_float("within", within, low=0, low_open=True)
    min_count = v.OrNone(v.Integer()).check("min_count", min_count)
    if min_count is None:
        min_count = max(1, math.ceil(0.2 * len(x) / modes))

    from scipy.spatial.distance import cdist

    distances = cdist(x, _ring_centres(modes, radius))
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(x)), nearest] <= within * std
    per_mode = np.bincount(nearest[good], minlength=modes)
    return {
        "modes_covered": int(np.sum(per_mode >= min_count)),
        "high_quality": float(good.mean()),
        "per_mode": [int(c) for c in per_mode],
    }


# --------------------------------------------------------------------------
# The in-project feature network


def build_feature_network(input_shape=(28, 28, 1), classes=10, feature_dim=128):
    """A small CNN classifier whose penultimate layer gives image features.

    ``conv1`` (32 filters 3x3, stride 2, ReLU), ``conv2`` (64 filters 3x3,
    stride 2, ReLU), ``flatten``, ``features`` (a Dense layer of
    ``feature_dim`` ReLU units) and ``logits`` (a Dense layer of
    ``classes`` units, softmax). It plays the part of Inception in FID, for
    small grey images: :func:`features` reads the ``"features"`` layer. The
    model is not compiled; :func:`train_feature_network` trains it.

    Args:
        input_shape: Shape of one image, ``(height, width, channels)``.
        classes: Integer >= 2, the number of classes.
        feature_dim: Positive integer, the size of the ``"features"`` layer.

    Returns:
        A Functional ``keras.Model`` named ``"feature_network"`` mapping
        images in ``[0, 1]`` to class probabilities.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    ```python
    network = keras_ae.sample_quality.build_feature_network((28, 28, 1))
    network.get_layer("features").units  # 128
    ```
    """
    input_shape = v.check_shape("input_shape", input_shape, ndim=3)
    classes = v.check_int("classes", classes, minimum=2)
    feature_dim = v.check_int("feature_dim", feature_dim)
    import keras

    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(feature_dim, activation="relu", name="features")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="logits")(x)
    return keras.Model(inputs, outputs, name="feature_network")


def _default_path(dataset):
    from keras_ae import data

    return os.path.join(data._cache_dir(), "feature_networks", f"{dataset}_classifier.keras")


def _check_images(name, x):
    """Images for training: a finite array ``(n, h, w)`` or ``(n, h, w, c)`` in [0, 1], as float32."""
    v.check_array(name, x, finite=True)
    x = np.asarray(x, dtype="float32")
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4 or len(x) == 0:
        raise v.invalid(name, "a non-empty array of images of shape (n, height, width) or (n, height, width, "
                        "channels)", f"array of shape {x.shape}")
    _check_unit_interval(name, x)
    return x


def _check_unit_interval(name, x):
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:
        raise v.invalid(name, "images with values in [0, 1]", f"array with values in [{low}, {high}]",
                        "Rescale 8-bit images with x / 255, or clip generated ones with np.clip(x, 0, 1)")


def _check_data(data):
    """``((x_train, y_train), (x_test, y_test))`` as returned by ``keras_ae.data.load``."""
    expected = "((x_train, y_train), (x_test, y_test)) as returned by keras_ae.data.load"
    try:
        (x_train, y_train), (x_test, y_test) = data
    except (TypeError, ValueError):
        raise v.invalid("data", expected, type(data).__name__) from None
    arrays = {}
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x = _check_images(f"x_{split}", x)
        v.check_array(f"y_{split}", y, finite=True)
        y = np.asarray(y)
        if y.shape != (len(x),) or y.dtype.kind not in "iu" or y.min() < 0:
            raise v.invalid(f"y_{split}", f"a 1-D array of {len(x)} non-negative integer labels (one per image)",
                            f"array of shape {y.shape} and dtype {y.dtype}")
        arrays[split] = (x, y.astype("int64"))
    (x_train, y_train), (x_test, y_test) = arrays["train"], arrays["test"]
    if x_test.shape[1:] != x_train.shape[1:]:
        raise v.invalid("x_test", f"images of the shape of x_train {x_train.shape[1:]}",
                        f"array of shape {x_test.shape}")
    return x_train, y_train, x_test, y_test


def _save_atomically(network, path):
    """Saves to a temporary file beside ``path``, then renames it: ``path`` is never half written."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".keras", prefix=".partial-", dir=directory)
    os.close(handle)
    try:
        network.save(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; a saved model is not
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def train_feature_network(dataset="mnist", *, data=None, epochs=3, batch_size=128, seed=0, path=None, verbose=0):
    """Trains the feature network of a dataset, reports its test accuracy and saves it.

    The network of :func:`build_feature_network` (input shape and classes
    taken from the data) is trained with Adam (learning rate 1e-3) on the
    cross-entropy of the labels, with everything seeded by
    ``keras.utils.set_random_seed(seed)``. It is saved as a ``.keras`` file
    written to a temporary file in the same directory and then renamed, so an
    interruption never leaves a half-written file at ``path`` nor replaces a
    good one. With the defaults, MNIST takes about 40 s on 2 CPU cores and
    reaches a test accuracy of about 0.985.

    Args:
        dataset: ``"mnist"``, ``"fashion_mnist"`` or ``"digits"``: the data,
            read with ``keras_ae.data.load(dataset)`` (the MNIST files must be
            in the Keras cache), and the name of the default file. Ignored
            when ``data`` is given.
        data: ``None``, or ``((x_train, y_train), (x_test, y_test))`` as
            returned by ``keras_ae.data.load``: images ``(n, h, w)`` or
            ``(n, h, w, c)`` in ``[0, 1]`` and integer labels from 0. Lets
            tests and tutorials train on small arrays.
        epochs: Positive integer.
        batch_size: Positive integer.
        seed: Non-negative integer seeding the weights and the shuffling.
        path: Where to save the ``.keras`` file. ``None`` means
            ``<Keras cache>/datasets/feature_networks/{dataset}_classifier.keras``
            (``$KERAS_HOME/datasets/...``, where :func:`load_feature_network`
            looks) when the data is read by name, and no file at all when
            ``data`` is given, so that a network trained on a few arrays
            never replaces the one of a dataset.
        verbose: Keras' ``verbose`` of ``fit`` (0, 1 or 2).

    Returns:
        A :class:`TrainedFeatureNetwork` named tuple ``(network,
        test_accuracy, path)``: the trained ``keras.Model``, its accuracy on
        the test split (a ``float``) and the path written (``None`` if none).

    Raises:
        ValueError: If an argument is invalid (for example ``data`` of the
            wrong structure, images outside ``[0, 1]``, or a ``path`` not
            ending in ``.keras``).
        FileNotFoundError: If the dataset's files are not in the Keras cache
            (see ``keras_ae.data.load``).

    Example:

    ```python
    from keras_ae import data, sample_quality

    result = sample_quality.train_feature_network("mnist", epochs=3)
    print(result.test_accuracy, result.path)
    small = sample_quality.train_feature_network(data=data.load("digits"), epochs=5)
    ```
    """
    epochs = v.check_int("epochs", epochs)
    batch_size = v.check_int("batch_size", batch_size)
    seed = v.check_int("seed", seed, minimum=0)
    verbose = v.check_choice("verbose", verbose, (0, 1, 2))
    if path is not None and (not isinstance(path, (str, os.PathLike)) or not os.fspath(path).endswith(".keras")):
        raise v.invalid("path", "None or a file path ending in .keras", path)
    if data is None:
        dataset = v.check_choice("dataset", dataset, _FEATURE_DATASETS)
        from keras_ae import data as data_module

        data = data_module.load(dataset, seed=seed)
        if path is None:
            path = _default_path(dataset)
    x_train, y_train, x_test, y_test = _check_data(data)

    import keras

    keras.utils.set_random_seed(seed)
    classes = max(2, int(max(y_train.max(), y_test.max())) + 1)
    network = build_feature_network(x_train.shape[1:], classes=classes)
    network.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    network.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
    accuracy = network.evaluate(x_test, y_test, batch_size=512, verbose=0, return_dict=True)["accuracy"]
    if path is not None:
        path = os.fspath(path)
        _save_atomically(network, path)
    return TrainedFeatureNetwork(network, float(accuracy), path)


def load_feature_network(dataset="mnist", *, path=None, train=False):
    """Loads the feature network of a dataset (in Keras' safe mode).

    Args:
        dataset: ``"mnist"``, ``"fashion_mnist"`` or ``"digits"``.
        path: The ``.keras`` file, or ``None`` for the default of
            :func:`train_feature_network`:
            ``<Keras cache>/datasets/feature_networks/{dataset}_classifier.keras``.
        train: If ``True`` and the file is missing, train the network with
            the defaults of :func:`train_feature_network` and save it there
            first (about 40 s for MNIST on 2 CPU cores).

    Returns:
        The ``keras.Model`` (not compiled).

    Raises:
        ValueError: If an argument is invalid.
        FileNotFoundError: If the file is missing and ``train`` is false. The
            message gives the path and the two ways of creating the file.

    Example:

    ```python
    network = keras_ae.sample_quality.load_feature_network("mnist", train=True)
    ```
    """
    dataset = v.check_choice("dataset", dataset, _FEATURE_DATASETS)
    v.Boolean().check("train", train)
    if path is None:
        path = _default_path(dataset)
    elif not isinstance(path, (str, os.PathLike)) or not os.fspath(path).endswith(".keras"):
        raise v.invalid("path", "None or a file path ending in .keras", path)
    path = os.fspath(path)
    if not os.path.isfile(path):
        if not train:
            raise FileNotFoundError(
                f"No feature network for {dataset!r} at {path}. Create it once with "
                f"`python tools/train_feature_network.py --dataset {dataset}` (from the repository root), "
                f"or call load_feature_network({dataset!r}, train=True) to train and save it now."
            )
        return train_feature_network(dataset, path=path).network
    import keras

    return keras.models.load_model(path, compile=False, safe_mode=True)


def features(network, x, batch_size=512):
    """The activations of the ``"features"`` layer of a feature network.

    Args:
        network: A network of :func:`build_feature_network`, trained or
            loaded (:func:`load_feature_network`).
        x: Images in ``[0, 1]`` of the network's input shape, with or without
            the channel axis when it is 1, or flat: for 28x28 networks
            ``(n, 28, 28, 1)``, ``(n, 28, 28)`` or ``(n, 784)``.
        batch_size: Positive integer, images per forward pass.

    Returns:
        A ``float64`` array of shape ``(n, feature_dim)``.

    Raises:
        ValueError: If ``network`` has no ``"features"`` layer, or ``x`` is
            not a finite array of images of its shape with values in
            ``[0, 1]`` (the message says how to rescale).

    Example:

    ```python
    network = keras_ae.sample_quality.load_feature_network("mnist")
    keras_ae.sample_quality.features(network, x_test).shape  # (10000, 128)
    ```
    """
    import keras

    if not isinstance(network, keras.Model) or "features" not in [layer.name for layer in network.layers]:
        raise v.invalid("network", "a network of build_feature_network (a keras.Model with a 'features' layer)",
                        getattr(network, "name", network))
    batch_size = v.check_int("batch_size", batch_size)
    shape = tuple(network.inputs[0].shape[1:])
    v.check_array("x", x, finite=True)
    x = np.asarray(x, dtype="float32")
    accepted = [shape, (math.prod(shape),)] + ([shape[:-1]] if shape[-1] == 1 else [])
    if x.ndim < 2 or x.shape[1:] not in accepted or len(x) == 0:
        described = " or ".join(str((None, *s)) for s in accepted)
        raise v.invalid("x", f"a non-empty array of images of shape {described} for this network",
                        f"array of shape {x.shape}")
    _check_unit_interval("x", x)
    extractor = keras.Model(network.inputs, network.get_layer("features").output)
    return np.asarray(extractor.predict(x.reshape((len(x), *shape)), batch_size=batch_size, verbose=0),
                      dtype="float64")
