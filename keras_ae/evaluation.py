"""Codes as features: how useful a representation is for classification and clustering.

An autoencoder's codes are judged by what they make easy. These functions
take any representation (the codes of an encoder, the pixels themselves, or
a PCA of them, which are the baselines to beat) as a 2-D array
``(examples, features)`` and measure:

* classification with scarce labels: :func:`linear_probe_accuracy` (a
  logistic regression on standardized codes) and :func:`knn_accuracy`
  (k nearest neighbours), trained on ``n_per_class`` labelled examples of
  every class (:func:`labelled_subset`) or on all of them;
* clustering: :func:`kmeans_clusters` clusters the codes, and
  :func:`cluster_accuracy` (the ACC of Xie et al., 2016),
  :func:`clustering_scores` (ACC, NMI and ARI) and :func:`cluster_mapping`
  compare clusters with classes.

Everything is NumPy, scikit-learn and SciPy: the module imports without
TensorFlow, returns Python ``float``, ``dict`` or NumPy ``int64`` arrays,
and refuses bad input with the project's ``ValueError`` messages.

Example:

```python
from keras_ae import evaluation

codes_train, codes_test = encoder.predict(x_train), encoder.predict(x_test)
evaluation.linear_probe_accuracy(codes_train, y_train, codes_test, y_test, n_per_class=10)
clusters = evaluation.kmeans_clusters(codes_test, 10)
evaluation.clustering_scores(y_test, clusters)  # {"accuracy": ..., "nmi": ..., "ari": ...}
```
"""

import numbers

import numpy as np

from keras_ae import _validation as v

__all__ = [
    "cluster_accuracy",
    "cluster_mapping",
    "clustering_scores",
    "kmeans_clusters",
    "knn_accuracy",
    "labelled_subset",
    "linear_probe_accuracy",
]


# --------------------------------------------------------------------------
# Input checks


def _shown(array):
    return v.Shown(f"<array of shape {tuple(np.shape(array))}>")


def _as_array(name, x, expected):
    """``x`` as a NumPy array, refusing sparse matrices, scalars and ragged lists."""
    if hasattr(x, "toarray"):
        raise v.invalid(name, f"{expected} (a dense array; sparse matrices are not supported)",
                        v.Shown(f"<{type(x).__name__}>"))
    if x is None or isinstance(x, (numbers.Number, str)):
        raise v.invalid(name, expected, x)
    try:
        return np.asarray(x)
    except ValueError as error:  # ragged nested lists
        raise v.invalid(name, expected, v.Shown(f"<{type(x).__name__}: {error}>")) from None


def _check_codes(name, codes, n_features=None, reference_name=None):
    """Codes: a finite non-empty 2-D float64 array, of ``n_features`` columns if given."""
    expected = "a 2-D array of codes (examples, features)"
    array = _as_array(name, codes, expected)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        hint = ""
        if array.ndim == 1:
            hint = "Use codes.reshape(-1, 1) for a single feature"
        elif array.ndim > 2:
            hint = "Flatten each example first, e.g. x.reshape(len(x), -1) for images"
        raise v.invalid(name, f"a non-empty {expected[2:]}", _shown(array), hint)
    v.check_array(name, array, finite=True)
    if n_features is not None and array.shape[1] != n_features:
        raise v.invalid(name, f"{n_features} columns, as many features as {reference_name}", _shown(array))
    return array.astype(np.float64, copy=False)


def _check_labels(name, labels, n=None, codes_name=None, classes=True):
    """Class (non-negative) or cluster (any integer) labels: a non-empty 1-D array of integers, as int64."""
    expected = "a 1-D array of integer labels"
    if n is not None:
        expected = f"a 1-D array of {n} integer labels, one per row of {codes_name}"
    array = _as_array(name, labels, expected)
    if array.ndim != 1 or array.size == 0 or (n is not None and len(array) != n):
        hint = "Use np.argmax(labels, axis=1) for one-hot labels" if array.ndim == 2 else ""
        raise v.invalid(name, expected if n is not None else f"a non-empty {expected[2:]}", _shown(array), hint)
    if array.dtype.kind not in "biu":
        hint = "Convert them with labels.astype(int)" if array.dtype.kind == "f" else ""
        raise v.invalid(name, "integer labels",
                        v.Shown(f"<{array.dtype.name} array of shape {array.shape}>"), hint)
    negative = int(np.count_nonzero(array < 0)) if classes and array.dtype.kind == "i" else 0
    if negative:
        raise v.invalid(name, "non-negative integer labels (classes or clusters)",
                        v.Shown(f"<array of shape {array.shape} with {negative} negative label(s), the "
                                f"smallest {int(array.min())}>"),
                        "-1 marks an unlabelled example (keras_ae.data.semi_supervised_dataset): pass only "
                        "the labelled ones, e.g. codes[labels >= 0] and labels[labels >= 0]")
    return array.astype(np.int64, copy=False)


def _check_pair(labels_true, labels_pred):
    labels_true = _check_labels("labels_true", labels_true)
    labels_pred = _check_labels("labels_pred", labels_pred, classes=False)  # any cluster ids, -1 included
    if len(labels_pred) != len(labels_true):
        raise v.invalid("labels_pred", f"a 1-D array of {len(labels_true)} integer labels, as many as labels_true",
                        _shown(labels_pred))
    return labels_true, labels_pred


def _check_seed(seed):
    return v.Seed().check("seed", seed)


def _check_split(train_codes, train_labels, test_codes, test_labels):
    """The four arrays of a probe, checked against each other."""
    train_codes = _check_codes("train_codes", train_codes)
    train_labels = _check_labels("train_labels", train_labels, len(train_codes), "train_codes")
    test_codes = _check_codes("test_codes", test_codes, n_features=train_codes.shape[1],
                              reference_name="train_codes")
    test_labels = _check_labels("test_labels", test_labels, len(test_codes), "test_codes")
    return train_codes, train_labels, test_codes, test_labels


def _labelled(train_codes, train_labels, n_per_class, seed):
    """The training codes and labels a probe fits on: a labelled subset, or all of them."""
    if n_per_class is None:
        _check_seed(seed)
        return train_codes, train_labels
    index = labelled_subset(train_labels, n_per_class, seed=seed)
    return train_codes[index], train_labels[index]


def _contingency(labels_true, labels_pred):
    """Counts ``(n_clusters, n_classes)`` and the cluster and class values of its rows and columns."""
    classes, class_index = np.unique(labels_true, return_inverse=True)
    clusters, cluster_index = np.unique(labels_pred, return_inverse=True)
    counts = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    np.add.at(counts, (cluster_index, class_index), 1)
    return counts, clusters, classes


def _matching(labels_true, labels_pred):
    """Hungarian matching: the contingency matrix and the matched (cluster row, class column) pairs."""
    from scipy.optimize import linear_sum_assignment

    counts, clusters, classes = _contingency(labels_true, labels_pred)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return counts, clusters, classes, rows, cols


# --------------------------------------------------------------------------
# Classification with scarce labels


def labelled_subset(labels, n_per_class, *, seed=0):
    """Indices of ``n_per_class`` examples of every class: the few labels of a semi-supervised study.

    For every class, in increasing order of class value, draws
    ``n_per_class`` of its examples without replacement with
    ``np.random.default_rng(seed)``, so a seed always gives the same subset
    of the same labels, and a larger ``n_per_class`` does not necessarily
    contain a smaller one.

    Args:
        labels: Integer class labels, shape ``(n,)``.
        n_per_class: Number of examples to draw from every class, a
            positive integer at most the size of the smallest class.
        seed: Non-negative integer seed of the draw (or ``None`` for fresh
            entropy, not reproducible).

    Returns:
        A sorted ``int64`` array of ``n_per_class * n_classes`` distinct
        indices into ``labels``.

    Raises:
        ValueError: If ``labels`` is not a non-empty 1-D integer array,
            ``n_per_class`` is not a positive integer, a class has fewer
            than ``n_per_class`` examples (the message names it and its
            count), or ``seed`` is invalid.

    Example:

    ```python
    index = keras_ae.evaluation.labelled_subset(y_train, 10, seed=0)  # 100 indices for 10 classes
    x_few, y_few = x_train[index], y_train[index]
    ```
    """
    labels = _check_labels("labels", labels)
    n_per_class = v.check_int("n_per_class", n_per_class)
    seed = _check_seed(seed)
    classes, counts = np.unique(labels, return_counts=True)
    smallest = int(np.argmin(counts))
    if counts[smallest] < n_per_class:
        raise v.invalid("n_per_class", f"a positive integer at most the size of the smallest class "
                        f"(class {classes[smallest]} has {counts[smallest]} example(s))", n_per_class)
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == c), size=n_per_class, replace=False) for c in classes]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels, *, n_per_class=None, seed=0, C=1.0):
    """Test accuracy of a logistic regression on the codes: the linear probe.

    Fits ``make_pipeline(StandardScaler(), LogisticRegression(C=C,
    max_iter=1000))`` of scikit-learn on the labelled training codes (the
    :func:`labelled_subset` of ``n_per_class`` examples per class, or all
    the training codes), then scores it on the test codes. A representation
    whose classes are linearly separable scores close to 1; codes
    independent of the labels score about ``1 / n_classes``.

    Args:
        train_codes: Training codes, a finite array ``(n_train, d)``.
        train_labels: Integer class labels ``(n_train,)``, of at least two
            classes (among the labelled examples).
        test_codes: Test codes, a finite array ``(n_test, d)`` with the
            same ``d``.
        test_labels: Integer class labels ``(n_test,)``. A class absent from
            the training labels can never be predicted.
        n_per_class: Number of labelled examples per class (see
            :func:`labelled_subset`), or ``None`` to fit on all the
            training codes.
        seed: Seed of the labelled subset (ignored, but checked, when
            ``n_per_class`` is ``None``). The fit itself is deterministic.
        C: Inverse regularization strength of the logistic regression, a
            positive number (smaller is stronger).

    Returns:
        The fraction of test examples classified correctly, a ``float`` in
        ``[0, 1]``.

    Raises:
        ValueError: If an array is not as described (codes not 2-D and
            finite, labels not 1-D integers, rows and labels of different
            counts, test codes of another number of columns), the
            labelled examples hold a single class, or ``n_per_class``,
            ``seed`` or ``C`` is invalid.

    Example:

    ```python
    accuracy = keras_ae.evaluation.linear_probe_accuracy(
        encoder.predict(x_train), y_train, encoder.predict(x_test), y_test, n_per_class=10)
    ```

    Reference: Alain & Bengio, "Understanding intermediate layers using
    linear classifier probes", ICLR 2017 workshop.
    """
    train_codes, train_labels, test_codes, test_labels = _check_split(
        train_codes, train_labels, test_codes, test_labels)
    C = v.check_float("C", C, low=0, low_open=True)
    x, y = _labelled(train_codes, train_labels, n_per_class, seed)
    if np.unique(y).size < 2:
        raise v.invalid("train_labels", "labelled examples of at least 2 classes for a logistic regression",
                        v.Shown(f"<{len(y)} labelled example(s), all of class {y[0]}>"))
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
    probe.fit(x, y)
    return float(np.mean(probe.predict(test_codes) == test_labels))


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, *, n_per_class=None, k=1, seed=0):
    """Test accuracy of a k-nearest-neighbour classifier on the codes.

    Fits scikit-learn's ``KNeighborsClassifier(n_neighbors=k)`` (Euclidean
    distance, majority vote, on the codes as they are: no scaling) on the
    labelled training codes (the :func:`labelled_subset` of
    ``n_per_class`` examples per class, or all the training codes), then
    scores it on the test codes. It measures whether nearby codes share a
    class, which a linear probe does not.

    Args:
        train_codes: Training codes, a finite array ``(n_train, d)``.
        train_labels: Integer class labels ``(n_train,)``.
        test_codes: Test codes, a finite array ``(n_test, d)`` with the
            same ``d``.
        test_labels: Integer class labels ``(n_test,)``.
        n_per_class: Number of labelled examples per class (see
            :func:`labelled_subset`), or ``None`` to use all the training
            codes.
        k: Number of neighbours, a positive integer at most the number of
            labelled examples.
        seed: Seed of the labelled subset (ignored, but checked, when
            ``n_per_class`` is ``None``).

    Returns:
        The fraction of test examples classified correctly, a ``float`` in
        ``[0, 1]``.

    Raises:
        ValueError: If an array is not as described (codes not 2-D and
            finite, labels not 1-D integers, rows and labels of different
            counts, test codes of another number of columns), ``k`` is not
            a positive integer or exceeds the number of labelled examples,
            or ``n_per_class`` or ``seed`` is invalid.

    Example:

    ```python
    accuracy = keras_ae.evaluation.knn_accuracy(codes_train, y_train, codes_test, y_test, n_per_class=1)
    ```

    Reference: Cover & Hart, "Nearest neighbor pattern classification",
    IEEE Transactions on Information Theory, 1967.
    """
    train_codes, train_labels, test_codes, test_labels = _check_split(
        train_codes, train_labels, test_codes, test_labels)
    k = v.check_int("k", k)
    x, y = _labelled(train_codes, train_labels, n_per_class, seed)
    if k > len(y):
        raise v.invalid("k", f"a positive integer at most the number of labelled examples ({len(y)})", k)
    from sklearn.neighbors import KNeighborsClassifier

    classifier = KNeighborsClassifier(n_neighbors=k).fit(x, y)
    return float(np.mean(classifier.predict(test_codes) == test_labels))


# --------------------------------------------------------------------------
# Clustering


def kmeans_clusters(codes, n_clusters, *, seed=0, n_init=10):
    """Clusters the codes with k-means.

    scikit-learn's ``KMeans(n_clusters, n_init=n_init,
    random_state=seed)`` on the codes as they are (no scaling): the best of
    ``n_init`` runs of Lloyd's algorithm from k-means++ initializations.

    Args:
        codes: A finite array ``(n, d)``.
        n_clusters: Number of clusters, a positive integer at most ``n``.
        seed: Non-negative integer seed of the initializations (or
            ``None``, not reproducible).
        n_init: Number of runs, a positive integer.

    Returns:
        An ``int64`` array ``(n,)`` of cluster labels in
        ``0 .. n_clusters - 1``, numbered arbitrarily (compare them with
        classes by :func:`cluster_accuracy` or :func:`cluster_mapping`).

    Raises:
        ValueError: If ``codes`` is not a non-empty finite 2-D array, or
            ``n_clusters``, ``seed`` or ``n_init`` is invalid.

    Example:

    ```python
    clusters = keras_ae.evaluation.kmeans_clusters(encoder.predict(x_test), 10)
    keras_ae.evaluation.cluster_accuracy(y_test, clusters)
    ```

    Reference: Arthur & Vassilvitskii, "k-means++: The Advantages of
    Careful Seeding", SODA 2007.
    """
    codes = _check_codes("codes", codes)
    n_clusters = v.check_int("n_clusters", n_clusters)
    if n_clusters > len(codes):
        raise v.invalid("n_clusters", f"a positive integer at most the number of rows of codes ({len(codes)})",
                        n_clusters)
    seed = _check_seed(seed)
    n_init = v.check_int("n_init", n_init)
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters, n_init=n_init, random_state=seed).fit(codes)
    return model.labels_.astype(np.int64)


def cluster_accuracy(labels_true, labels_pred):
    """Clustering accuracy (ACC): the accuracy of the best one-to-one matching of clusters to classes.

    ``ACC = max_m sum_i 1{y_i = m(c_i)} / n`` over the one-to-one maps
    ``m`` from clusters to classes, found by the Hungarian algorithm
    (``scipy.optimize.linear_sum_assignment`` maximizing the matched counts
    of the contingency matrix). Cluster and class values are arbitrary
    integers: relabelling the clusters does not change the score. With more
    clusters than classes, the examples of unmatched clusters count as
    errors (so over-clustering is not rewarded); with fewer, those of
    unmatched classes do.

    Args:
        labels_true: Integer class labels, shape ``(n,)``.
        labels_pred: Integer cluster labels, shape ``(n,)``.

    Returns:
        A ``float`` in ``(0, 1]``: 1 for a clustering equal to the classes
        up to relabelling.

    Raises:
        ValueError: If the labels are not non-empty 1-D integer arrays of
            the same length.

    Example:

    ```python
    keras_ae.evaluation.cluster_accuracy([0, 0, 1, 1], [1, 1, 0, 0])  # 1.0
    ```

    Reference: Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for
    Clustering Analysis", ICML 2016 (the ACC metric).
    """
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    counts, _, _, rows, cols = _matching(labels_true, labels_pred)
    return float(counts[rows, cols].sum() / len(labels_true))


def cluster_mapping(labels_true, labels_pred):
    """The one-to-one matching of clusters to classes behind :func:`cluster_accuracy`.

    Use it to name or colour clusters after the class they stand for:
    ``np.array([mapping.get(c, -1) for c in clusters])`` are predicted
    classes (``-1`` for clusters left unmatched).

    Args:
        labels_true: Integer class labels, shape ``(n,)``.
        labels_pred: Integer cluster labels, shape ``(n,)``.

    Returns:
        A ``dict`` from cluster value to class value (Python ``int``), one
        entry per matched cluster: ``min(n_clusters, n_classes)`` entries.
        With more clusters than classes, the clusters left unmatched (the
        ones the matching sacrificed) are absent.

    Raises:
        ValueError: If the labels are not non-empty 1-D integer arrays of
            the same length.

    Example:

    ```python
    keras_ae.evaluation.cluster_mapping([0, 0, 1, 1, 1], [7, 7, 3, 3, 5])  # {3: 1, 7: 0}
    ```

    Reference: Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for
    Clustering Analysis", ICML 2016.
    """
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    _, clusters, classes, rows, cols = _matching(labels_true, labels_pred)
    return {int(clusters[r]): int(classes[c]) for r, c in zip(rows, cols)}


def clustering_scores(labels_true, labels_pred):
    """The three usual scores of a clustering against classes: ACC, NMI and ARI.

    * ``"accuracy"``: :func:`cluster_accuracy`, in ``(0, 1]``.
    * ``"nmi"``: scikit-learn's ``normalized_mutual_info_score`` (mutual
      information over the arithmetic mean of the entropies), in
      ``[0, 1]``, 1 for a perfect clustering.
    * ``"ari"``: scikit-learn's ``adjusted_rand_score``, at most 1, about
      0 for a random assignment (it can be negative), which NMI is not.

    All three ignore how clusters are numbered.

    Args:
        labels_true: Integer class labels, shape ``(n,)``.
        labels_pred: Integer cluster labels, shape ``(n,)``.

    Returns:
        ``{"accuracy": float, "nmi": float, "ari": float}``.

    Raises:
        ValueError: If the labels are not non-empty 1-D integer arrays of
            the same length.

    Example:

    ```python
    keras_ae.evaluation.clustering_scores(y_test, keras_ae.evaluation.kmeans_clusters(codes_test, 10))
    ```

    References: Xie, Girshick & Farhadi, ICML 2016 (ACC); Strehl & Ghosh,
    "Cluster Ensembles", JMLR 2002 (NMI); Hubert & Arabie, "Comparing
    partitions", Journal of Classification, 1985 (ARI).
    """
    labels_true, labels_pred = _check_pair(labels_true, labels_pred)
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "accuracy": cluster_accuracy(labels_true, labels_pred),
        "nmi": float(normalized_mutual_info_score(labels_true, labels_pred)),
        "ari": float(adjusted_rand_score(labels_true, labels_pred)),
    }
