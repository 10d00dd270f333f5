"""Tests of keras_ae.evaluation: codes as features, on cases with known answers."""

import itertools
import re
import subprocess
import sys

import numpy as np
import pytest
import sklearn.metrics
import sklearn.neighbors
import sklearn.pipeline

from keras_ae import evaluation

N_CLASSES = 10


def blobs(n_per_class, *, n_features=5, spread=20.0, std=0.5, seed=0):
    """Well-separated Gaussian blobs: class c is centred on `spread * e_c` (shuffled rows)."""
    rng = np.random.default_rng(seed)
    centres = spread * np.eye(N_CLASSES, n_features) if n_features >= N_CLASSES else (
        spread * rng.normal(size=(N_CLASSES, n_features)))
    labels = rng.permutation(np.repeat(np.arange(N_CLASSES), n_per_class))
    codes = centres[labels] + std * rng.normal(size=(len(labels), n_features))
    return codes, labels


def brute_force_accuracy(labels_true, labels_pred):
    """Best accuracy over every one-to-one map between clusters and classes."""
    classes, clusters = np.unique(labels_true), np.unique(labels_pred)
    best = 0
    if len(clusters) <= len(classes):
        maps = (dict(zip(clusters, image)) for image in itertools.permutations(classes, len(clusters)))
    else:
        maps = ({c: k for k, c in zip(classes, image)} for image in itertools.permutations(clusters, len(classes)))
    for mapping in maps:
        best = max(best, sum(mapping.get(p, None) == t for t, p in zip(labels_true, labels_pred)))
    return best / len(labels_true)


# --------------------------------------------------------------------------
# cluster_accuracy, cluster_mapping, clustering_scores


def test_cluster_accuracy_of_a_relabelling_is_one():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 6, size=300)
    relabel = np.array([4, 0, 5, 2, 1, 3]) + 10  # a permutation, and other values
    assert evaluation.cluster_accuracy(labels, relabel[labels]) == 1.0


def test_cluster_accuracy_by_hand():
    true = [0, 0, 0, 1, 1, 1, 2, 2, 2]
    pred = [1, 1, 0, 0, 0, 0, 2, 2, 2]
    # Cluster 0 holds {class 0: 1, class 1: 3}, cluster 1 {class 0: 2}, cluster 2 {class 2: 3}: the
    # matching 0->1, 1->0, 2->2 gets 3 + 2 + 3 = 8 right; only example 2 (class 0 in cluster 0) is wrong.
    assert evaluation.cluster_accuracy(true, pred) == pytest.approx(8 / 9)
    # Clusters merged: a single cluster matches a single class.
    assert evaluation.cluster_accuracy(true, [5] * 9) == pytest.approx(3 / 9)
    # Where the greedy choice (each cluster to its majority class) is not the best matching: cluster 0 holds
    # {class 0: 3, class 1: 2} and cluster 1 {class 0: 2}.
    true = [0, 0, 0, 1, 1, 0, 0]
    pred = [0, 0, 0, 0, 0, 1, 1]
    # Matchings: {0: 0, 1: 1} -> 3 + 0 = 3; {0: 1, 1: 0} -> 2 + 2 = 4.
    assert evaluation.cluster_accuracy(true, pred) == pytest.approx(4 / 7)


def test_cluster_accuracy_with_more_clusters_than_classes():
    # Class 0 split in two clusters: one of them is unmatched, and its examples count as errors.
    assert evaluation.cluster_accuracy([0, 0, 1, 1], [0, 1, 2, 2]) == pytest.approx(3 / 4)
    # One cluster per example: only one example per class is right.
    assert evaluation.cluster_accuracy([0, 0, 0, 1, 1, 1], np.arange(6)) == pytest.approx(2 / 6)
    # Fewer clusters than classes: the unmatched class counts as errors.
    assert evaluation.cluster_accuracy([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 1, 1]) == pytest.approx(4 / 6)


@pytest.mark.parametrize("n_clusters", [3, 4, 5])
def test_cluster_accuracy_equals_brute_force(n_clusters):
    rng = np.random.default_rng(n_clusters)
    for _ in range(20):
        true = rng.integers(0, 4, size=12)
        pred = rng.integers(0, n_clusters, size=12) * 3 - 1  # arbitrary cluster values
        assert evaluation.cluster_accuracy(true, pred) == pytest.approx(brute_force_accuracy(true, pred))


def test_cluster_mapping_returns_the_matching():
    mapping = evaluation.cluster_mapping([0, 0, 0, 1, 1, 1, 2, 2, 2], [1, 1, 0, 0, 0, 0, 2, 2, 2])
    assert mapping == {0: 1, 1: 0, 2: 2}
    assert all(type(k) is int and type(c) is int for k, c in mapping.items())
    # More clusters than classes: the sacrificed cluster 7 is absent.
    assert evaluation.cluster_mapping([0, 0, 0, 1, 1], [5, 5, 7, 9, 9]) == {5: 0, 9: 1}
    # The mapping reproduces cluster_accuracy.
    rng = np.random.default_rng(3)
    true, pred = rng.integers(0, 4, size=50), rng.integers(0, 6, size=50)
    mapping = evaluation.cluster_mapping(true, pred)
    mapped = np.array([mapping.get(int(p), -1) for p in pred])
    assert np.mean(mapped == true) == pytest.approx(evaluation.cluster_accuracy(true, pred))


def test_clustering_scores_of_a_perfect_clustering():
    labels = np.repeat(np.arange(4), 5)
    scores = evaluation.clustering_scores(labels, (labels + 1) % 4 + 7)
    assert set(scores) == {"accuracy", "nmi", "ari"}
    assert scores == pytest.approx({"accuracy": 1.0, "nmi": 1.0, "ari": 1.0})
    assert all(type(value) is float for value in scores.values())


def test_clustering_scores_match_sklearn():
    rng = np.random.default_rng(4)
    true = rng.integers(0, 5, size=200)
    pred = np.where(rng.random(200) < 0.6, true, rng.integers(0, 6, size=200))
    scores = evaluation.clustering_scores(true, pred)
    assert scores["nmi"] == pytest.approx(sklearn.metrics.normalized_mutual_info_score(true, pred))
    assert scores["ari"] == pytest.approx(sklearn.metrics.adjusted_rand_score(true, pred))
    assert scores["accuracy"] == pytest.approx(evaluation.cluster_accuracy(true, pred))
    assert 0.1 < scores["ari"] < 0.9  # a partly right clustering: neither 0 nor 1


def test_ari_of_a_random_assignment_is_about_zero():
    rng = np.random.default_rng(5)
    scores = evaluation.clustering_scores(rng.integers(0, 10, size=20_000), rng.integers(0, 10, size=20_000))
    assert abs(scores["ari"]) < 0.005
    assert scores["accuracy"] < 0.15  # chance is 0.1, plus what the matching picks up


@pytest.mark.parametrize("labels_true, labels_pred, message", [
    ([0, 1, 1], [0, 1], "Invalid value for 'labels_pred': expected a 1-D array of 3 integer labels, as many as "
                        "labels_true. Received: labels_pred=<array of shape (2,)>"),
    ([0.0, 1.0], [0, 1], "Invalid value for 'labels_true': expected integer labels. Received: "
                         "labels_true=<float64 array of shape (2,)>. Convert them with labels.astype(int)"),
    ([], [], "Invalid value for 'labels_true': expected a non-empty 1-D array of integer labels. "
             "Received: labels_true=<array of shape (0,)>"),
    ([[0, 1]], [0, 1], "labels_true=<array of shape (1, 2)>. Use np.argmax(labels, axis=1) for one-hot labels"),
])
@pytest.mark.parametrize("function", [evaluation.cluster_accuracy, evaluation.cluster_mapping,
                                      evaluation.clustering_scores])
def test_clustering_functions_refuse_bad_labels(function, labels_true, labels_pred, message):
    with pytest.raises(ValueError) as info:
        function(labels_true, labels_pred)
    assert message in str(info.value)


# --------------------------------------------------------------------------
# labelled_subset


def test_labelled_subset_draws_n_per_class():
    labels = np.random.default_rng(6).integers(0, N_CLASSES, size=500)
    index = evaluation.labelled_subset(labels, 7, seed=1)
    assert index.dtype == np.int64 and index.shape == (70,)
    assert np.all(np.diff(index) > 0)  # sorted and distinct
    assert np.array_equal(np.bincount(labels[index], minlength=N_CLASSES), np.full(N_CLASSES, 7))


def test_labelled_subset_is_reproducible_by_seed():
    labels = np.random.default_rng(7).integers(0, N_CLASSES, size=500)
    first = evaluation.labelled_subset(labels, 5, seed=3)
    assert np.array_equal(first, evaluation.labelled_subset(labels, 5, seed=3))
    assert not np.array_equal(first, evaluation.labelled_subset(labels, 5, seed=4))


def test_labelled_subset_of_a_whole_class():
    labels = np.array([2, 2, 9, 9, 9, 2])
    assert evaluation.labelled_subset(labels, 3).tolist() == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("n_per_class, message", [
    (0, "Invalid value for 'n_per_class': expected a positive integer. Received: n_per_class=0"),
    (2.0, "Invalid value for 'n_per_class': expected a positive integer. Received: n_per_class=2.0"),
    (True, "Invalid value for 'n_per_class': expected a positive integer. Received: n_per_class=True"),
    (4, "Invalid value for 'n_per_class': expected a positive integer at most the size of the smallest class "
        "(class 9 has 3 example(s)). Received: n_per_class=4"),
])
def test_labelled_subset_refuses_bad_n_per_class(n_per_class, message):
    labels = np.array([2, 2, 2, 2, 9, 9, 9, 5, 5, 5, 5, 5])
    with pytest.raises(ValueError, match=r"^" + re.escape(message) + r"$"):
        evaluation.labelled_subset(labels, n_per_class)


def test_labelled_subset_refuses_a_bad_seed():
    with pytest.raises(ValueError, match=r"Invalid value for 'seed': expected a non-negative integer"):
        evaluation.labelled_subset([0, 1], 1, seed=-1)


# --------------------------------------------------------------------------
# linear_probe_accuracy and knn_accuracy

PROBES = [evaluation.linear_probe_accuracy, evaluation.knn_accuracy]


@pytest.mark.parametrize("probe", PROBES)
@pytest.mark.parametrize("n_per_class", [None, 1, 5])
def test_probes_on_separable_blobs(probe, n_per_class):
    train_codes, train_labels = blobs(50, seed=0)
    test_codes, test_labels = blobs(50, seed=0)  # same centres...
    test_codes = test_codes + 0.5 * np.random.default_rng(1).normal(size=test_codes.shape)  # ...other noise
    accuracy = probe(train_codes, train_labels, test_codes, test_labels, n_per_class=n_per_class)
    assert type(accuracy) is float
    assert accuracy >= 0.95


@pytest.mark.parametrize("probe", PROBES)
def test_probes_on_labels_independent_of_codes_are_at_chance(probe):
    rng = np.random.default_rng(8)
    train_codes, test_codes = rng.normal(size=(2000, 5)), rng.normal(size=(2000, 5))
    train_labels, test_labels = rng.integers(0, N_CLASSES, 2000), rng.integers(0, N_CLASSES, 2000)
    accuracy = probe(train_codes, train_labels, test_codes, test_labels)
    assert abs(accuracy - 1 / N_CLASSES) < 0.04


def test_probes_score_against_the_test_labels():
    codes, labels = blobs(20, seed=2)
    assert evaluation.knn_accuracy(codes, labels, codes, labels) == 1.0
    assert evaluation.knn_accuracy(codes, labels, codes, (labels + 1) % N_CLASSES) == 0.0
    # Half of the test labels wrong: half right.
    wrong = labels.copy()
    wrong[::2] = (wrong[::2] + 1) % N_CLASSES
    assert evaluation.linear_probe_accuracy(codes, labels, codes, wrong) == pytest.approx(0.5)


@pytest.mark.parametrize("probe, fit", [
    (evaluation.linear_probe_accuracy, sklearn.pipeline.Pipeline),
    (evaluation.knn_accuracy, sklearn.neighbors.KNeighborsClassifier),
])
@pytest.mark.parametrize("n_per_class, expected", [(1, 10), (3, 30), (None, 400)])
def test_probes_fit_on_n_per_class_examples(monkeypatch, probe, fit, n_per_class, expected):
    fitted = []
    original = fit.fit

    def spy(self, x, y, *args, **kwargs):
        fitted.append((np.array(x), np.array(y)))
        return original(self, x, y, *args, **kwargs)

    monkeypatch.setattr(fit, "fit", spy)
    codes, labels = blobs(40, seed=3)
    probe(codes, labels, codes, labels, n_per_class=n_per_class, seed=5)
    assert len(fitted) == 1
    x, y = fitted[0]
    assert x.shape == (expected, codes.shape[1])
    assert np.bincount(y, minlength=N_CLASSES).tolist() == [expected // N_CLASSES] * N_CLASSES
    if n_per_class is not None:
        index = evaluation.labelled_subset(labels, n_per_class, seed=5)
        assert np.array_equal(x, codes[index]) and np.array_equal(y, labels[index])


def test_one_nn_with_one_example_per_class_predicts_the_nearest_labelled_point():
    # Overlapping classes, so that one labelled point per class gives another answer than all of them.
    rng = np.random.default_rng(9)
    train_codes, train_labels = rng.normal(size=(300, 2)), rng.integers(0, N_CLASSES, 300)
    test_codes, test_labels = rng.normal(size=(200, 2)), rng.integers(0, N_CLASSES, 200)
    index = evaluation.labelled_subset(train_labels, 1, seed=11)
    assert len(index) == N_CLASSES
    distances = np.linalg.norm(test_codes[:, None, :] - train_codes[index][None, :, :], axis=-1)
    predicted = train_labels[index][np.argmin(distances, axis=1)]
    expected = np.mean(predicted == test_labels)
    assert evaluation.knn_accuracy(train_codes, train_labels, test_codes, test_labels, n_per_class=1,
                                   seed=11) == pytest.approx(expected)
    # Scored against the designed predictions themselves, it is perfect.
    assert evaluation.knn_accuracy(train_codes, train_labels, test_codes, predicted, n_per_class=1, seed=11) == 1.0


def test_knn_votes_among_k_neighbours():
    # On a line: labelled points 0, 1 (class 0) and 2.2 (class 1); the query 1.7 is nearest to 2.2, but two of
    # its three nearest neighbours are of class 0.
    train_codes, train_labels = np.array([[0.0], [1.0], [2.2]]), np.array([0, 0, 1])
    query = np.array([[1.7]])
    assert evaluation.knn_accuracy(train_codes, train_labels, query, [1], k=1) == 1.0
    assert evaluation.knn_accuracy(train_codes, train_labels, query, [0], k=3) == 1.0


def test_linear_probe_regularization():
    # Imbalanced blobs: with C = 1 the probe separates them; with a tiny C the weights vanish and only the
    # (unpenalized) intercepts are left, so the probe predicts the majority class (60 of 100 test examples).
    codes, labels = blobs(20, n_features=N_CLASSES, seed=4)
    keep = (labels == 0) | (np.arange(len(labels)) % 3 == 0)
    train_codes, train_labels = codes[keep], labels[keep]
    test_labels = np.r_[np.zeros(60, int), np.arange(1, 5).repeat(10)]
    test_codes = 20.0 * np.eye(N_CLASSES)[test_labels]
    assert np.bincount(train_labels).argmax() == 0
    assert evaluation.linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels) == 1.0
    assert evaluation.linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels,
                                            C=1e-4) == pytest.approx(0.6)
    with pytest.raises(ValueError, match=r"Invalid value for 'C': expected a positive number. Received: C=0"):
        evaluation.linear_probe_accuracy(codes, labels, codes, labels, C=0)


def test_linear_probe_standardizes_the_codes():
    # The class is in a feature of tiny scale, next to a noise feature of large scale: unscaled, the weight it
    # needs (~1e4) would be crushed by the L2 penalty; standardized, the classes separate.
    rng = np.random.default_rng(12)
    labels = rng.integers(0, 2, 400)
    codes = np.stack([1e-4 * (labels + 0.1 * rng.normal(size=400)), 100.0 * rng.normal(size=400)], axis=1)
    train, test = slice(0, 200), slice(200, 400)
    accuracy = evaluation.linear_probe_accuracy(codes[train], labels[train], codes[test], labels[test])
    assert accuracy == 1.0
    # And the probe ignores the units of the features.
    rescaled = codes * [1e6, 1e-3] + [5.0, -7.0]
    assert evaluation.linear_probe_accuracy(rescaled[train], labels[train], rescaled[test], labels[test]) == accuracy


def _bad_inputs():
    codes, labels = blobs(4, seed=5)  # 40 examples of 5 features
    nan = codes.copy()
    nan[3, 2] = np.nan
    return [
        (dict(test_codes=codes[:, :3]), "Invalid value for 'test_codes': expected 5 columns, as many features as "
                                        "train_codes. Received: test_codes=<array of shape (40, 3)>"),
        (dict(train_labels=labels[:39]), "Invalid value for 'train_labels': expected a 1-D array of 40 integer "
                                         "labels, one per row of train_codes. Received: "
                                         "train_labels=<array of shape (39,)>"),
        (dict(test_labels=labels[:-1]), "Invalid value for 'test_labels': expected a 1-D array of 40 integer "
                                        "labels, one per row of test_codes. Received: "
                                        "test_labels=<array of shape (39,)>"),
        (dict(train_codes=nan), "Invalid value for 'train_codes': expected finite values. Received: "
                                "train_codes=<float64 array of shape (40, 5) with 1 NaN or infinite values>"),
        (dict(test_codes=np.where(nan == nan, codes, np.inf)), "Invalid value for 'test_codes': expected finite "
                                                                "values"),
        (dict(train_codes=codes[:, 0]), "Invalid value for 'train_codes': expected a non-empty 2-D array of codes "
                                        "(examples, features). Received: train_codes=<array of shape (40,)>. "
                                        "Use codes.reshape(-1, 1) for a single feature"),
        (dict(train_codes=codes.reshape(40, 5, 1)), "train_codes=<array of shape (40, 5, 1)>. Flatten each "
                                                    "example first"),
        (dict(train_labels=labels.astype(float)), "Invalid value for 'train_labels': expected integer labels. "
                                                  "Received: train_labels=<float64 array of shape (40,)>"),
        (dict(n_per_class=0), "Invalid value for 'n_per_class': expected a positive integer. "
                              "Received: n_per_class=0"),
        (dict(n_per_class=5), "Invalid value for 'n_per_class': expected a positive integer at most the size of "
                              "the smallest class (class 0 has 4 example(s)). Received: n_per_class=5"),
        (dict(seed="0"), "Invalid value for 'seed': expected a non-negative integer. Received: seed='0'"),
    ]


@pytest.mark.parametrize("probe", PROBES)
@pytest.mark.parametrize("change, message", _bad_inputs())
def test_probes_refuse_bad_inputs(probe, change, message):
    codes, labels = blobs(4, seed=5)
    arguments = dict(train_codes=codes, train_labels=labels, test_codes=codes, test_labels=labels) | change
    with pytest.raises(ValueError) as info:
        probe(**arguments)
    assert message in str(info.value)
    assert len(str(info.value)) < 400  # never a whole array


def test_knn_refuses_k_larger_than_the_labelled_examples():
    codes, labels = blobs(4, seed=6)
    assert evaluation.knn_accuracy(codes, labels, codes, labels, n_per_class=1, k=10) >= 0.0  # k = 10 is allowed
    message = ("Invalid value for 'k': expected a positive integer at most the number of labelled examples (10). "
               "Received: k=11")
    with pytest.raises(ValueError, match=r"^" + re.escape(message) + "$"):
        evaluation.knn_accuracy(codes, labels, codes, labels, n_per_class=1, k=11)
    with pytest.raises(ValueError, match=r"Invalid value for 'k': expected a positive integer. Received: k=0"):
        evaluation.knn_accuracy(codes, labels, codes, labels, k=0)


def test_linear_probe_refuses_a_single_class():
    codes = np.random.default_rng(7).normal(size=(10, 2))
    with pytest.raises(ValueError, match=r"Invalid value for 'train_labels': expected labelled examples of at "
                                         r"least 2 classes"):
        evaluation.linear_probe_accuracy(codes, np.zeros(10, int), codes, np.zeros(10, int))


# --------------------------------------------------------------------------
# kmeans_clusters


def test_kmeans_recovers_separated_blobs():
    codes, labels = blobs(30, seed=7)
    clusters = evaluation.kmeans_clusters(codes, N_CLASSES, seed=0)
    assert clusters.dtype == np.int64 and clusters.shape == labels.shape
    assert set(clusters.tolist()) == set(range(N_CLASSES))
    assert evaluation.cluster_accuracy(labels, clusters) == 1.0
    assert evaluation.clustering_scores(labels, clusters) == pytest.approx({"accuracy": 1.0, "nmi": 1.0, "ari": 1.0})


def test_kmeans_is_reproducible_with_seed():
    codes = np.random.default_rng(8).normal(size=(300, 3))  # no clear clusters: the seed matters
    first = evaluation.kmeans_clusters(codes, 6, seed=1, n_init=1)
    assert np.array_equal(first, evaluation.kmeans_clusters(codes, 6, seed=1, n_init=1))
    others = [evaluation.kmeans_clusters(codes, 6, seed=s, n_init=1) for s in range(2, 6)]
    assert any(not np.array_equal(first, other) for other in others)


@pytest.mark.parametrize("arguments, message", [
    (dict(n_clusters=0), "Invalid value for 'n_clusters': expected a positive integer. Received: n_clusters=0"),
    (dict(n_clusters=21), "Invalid value for 'n_clusters': expected a positive integer at most the number of rows "
                          "of codes (20). Received: n_clusters=21"),
    (dict(n_clusters=2, n_init=0), "Invalid value for 'n_init': expected a positive integer. Received: n_init=0"),
    (dict(n_clusters=2, codes=np.full((20, 2), np.nan)), "Invalid value for 'codes': expected finite values"),
])
def test_kmeans_refuses_bad_inputs(arguments, message):
    arguments = dict(codes=np.random.default_rng(9).normal(size=(20, 2))) | arguments
    with pytest.raises(ValueError) as info:
        evaluation.kmeans_clusters(**arguments)
    assert message in str(info.value)


# --------------------------------------------------------------------------
# The module


def test_module_imports_without_tensorflow():
    code = "import keras_ae.evaluation, sys; assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_lazy_attribute_of_the_package():
    import keras_ae

    assert "evaluation" in keras_ae.__all__
    assert keras_ae.evaluation is evaluation


def test_unlabelled_marks_are_refused_as_classes_but_allowed_as_cluster_ids():
    codes = np.arange(12, dtype=float).reshape(6, 2)
    labels = np.array([0, 0, 1, 1, -1, -1])  # -1: unlabelled, as semi_supervised_dataset takes them
    for call in (lambda: evaluation.linear_probe_accuracy(codes, labels, codes, np.abs(labels)),
                 lambda: evaluation.knn_accuracy(codes, np.abs(labels), codes, labels),
                 lambda: evaluation.labelled_subset(labels, 1),
                 lambda: evaluation.cluster_accuracy(labels, np.abs(labels))):
        with pytest.raises(ValueError, match=r"expected non-negative integer labels .* 2 negative label\(s\), "
                                             r"the smallest -1>\. -1 marks an unlabelled example"):
            call()
    # A clustering may call a cluster -1 (DBSCAN's noise): a cluster id, not a class.
    assert evaluation.cluster_accuracy([0, 0, 1, 1], [-1, -1, 3, 3]) == 1.0
