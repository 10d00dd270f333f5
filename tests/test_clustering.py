"""DEC: the Student's t clustering layer, the sharpened targets, k-means initialization and refinement."""

import re

import keras
import numpy as np
import pytest
from _tiny import tiny

import keras_ae
from keras_ae.layers import ClusteringLayer
from keras_ae.models.clustering import target_distribution, target_distribution_np


def _student_t(z, centroids, alpha):
    d2 = ((z[:, None, :] - centroids[None]) ** 2).sum(-1)
    k = (1 + d2 / alpha) ** (-(alpha + 1) / 2)
    return k / k.sum(1, keepdims=True)


@pytest.mark.parametrize("alpha", [1.0, 2.5])
def test_clustering_layer_is_the_student_t_kernel(alpha):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(7, 3)).astype("float32")
    layer = ClusteringLayer(4, alpha=alpha)
    layer.build((None, 3))
    centroids = rng.normal(size=(4, 3)).astype("float32")
    layer.centroids.assign(centroids)
    q = np.asarray(layer(z))
    np.testing.assert_allclose(q, _student_t(z, centroids, alpha), rtol=1e-5)
    np.testing.assert_allclose(q.sum(1), 1.0, rtol=1e-6)
    again = ClusteringLayer.from_config(layer.get_config())
    assert (again.n_clusters, again.alpha) == (4, alpha)


def test_clustering_layer_refuses_bad_arguments():
    with pytest.raises(ValueError, match="Invalid value for 'n_clusters': expected an integer >= 2|"
                                         "Invalid value for 'n_clusters': expected"):
        ClusteringLayer(1)
    with pytest.raises(ValueError, match="Invalid value for 'alpha'"):
        ClusteringLayer(3, alpha=0.0)


def test_target_distribution_sharpens_and_divides_by_cluster_frequency():
    q = np.array([[0.6, 0.4], [0.5, 0.5], [0.9, 0.1]])
    f = q.sum(0)  # 2.0, 1.0
    expected = (q**2 / f) / (q**2 / f).sum(1, keepdims=True)
    np.testing.assert_allclose(target_distribution_np(q), expected)
    np.testing.assert_allclose(np.asarray(target_distribution(q.astype("float32"))), expected, rtol=1e-6)
    # The sharpening: the most probable cluster of the first row gains less than the rare one.
    assert expected[0, 0] / expected[0, 1] == pytest.approx((0.6**2 / 2.0) / (0.4**2 / 1.0))
    # A weight of 0 removes an example from the frequencies too.
    weighted = np.asarray(target_distribution(q.astype("float32"), np.array([1.0, 1.0, 0.0], "float32")))
    np.testing.assert_allclose(weighted[:2], target_distribution_np(q[:2]), rtol=1e-6)


def test_clustering_term_is_kl_of_targets_to_assignments():
    model = tiny("dec")
    x = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype("float32")
    terms = model.loss_terms(x, x)
    q = model.soft_assignments(x)
    p = target_distribution_np(q)
    np.testing.assert_allclose(np.asarray(terms["clustering"]), (p * np.log(p / q)).sum(1), rtol=1e-4, atol=1e-6)
    # Pretraining by default: the loss is the reconstruction alone.
    assert float(model.hyperparameters["reconstruction_weight"]) == 1.0
    assert float(model.hyperparameters["clustering_weight"]) == 0.0


def _blobs(n_per=60, seed=0):
    """Three blobs of 8x8 images in [0, 1]: a bright square in one of three places, plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.2, size=(3 * n_per, 8, 8, 1)).astype("float32")
    y = np.repeat(np.arange(3), n_per)
    for i, label in enumerate(y):
        r, c = [(0, 0), (0, 4), (4, 2)][label]
        x[i, r:r + 4, c:c + 4] += 0.7
    return x, y


def test_initialize_clusters_puts_kmeans_centroids_in_the_layer():
    from sklearn.cluster import KMeans

    x, _ = _blobs()
    model = tiny("dec", seed=1)
    labels = model.initialize_clusters(x, n_init=5)
    codes = model.predict_codes(x)
    kmeans = KMeans(3, n_init=5, random_state=0).fit(codes.astype("float64"))
    np.testing.assert_allclose(model.clustering.centroids.numpy(), kmeans.cluster_centers_, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(labels, kmeans.labels_)
    with pytest.raises(ValueError, match="Invalid value for 'x': expected at least n_clusters=3 examples"):
        model.initialize_clusters(x[:2])


def test_fit_clusters_sharpens_assignments_and_stops_when_they_settle(tmp_path):
    x, y = _blobs()
    model = tiny("dec", seed=0, learning_rate=3e-3)
    model.fit(x, epochs=20, batch_size=32, verbose=0)
    model.initialize_clusters(x, n_init=5)
    before = model.soft_assignments(x).max(1).mean()
    # tol=0 never stops: 15 epochs of refinement.
    history = model.fit_clusters(x, epochs=15, batch_size=32, tol=0.0, update_interval=3, initialize=False,
                                 verbose=0)
    after = model.soft_assignments(x).max(1).mean()
    assert len(history.history["loss"]) == 15
    assert after > before + 0.05, (before, after)  # DEC's sharpening of the soft assignments
    assert history.history["clustering"][-1] < history.history["clustering"][0]
    assert keras_ae.evaluation.cluster_accuracy(y, model.predict_clusters(x)) == 1.0
    # The pretraining weights are back: a later fit() trains the autoencoder, not the clusters.
    assert float(model.hyperparameters["reconstruction_weight"]) == 1.0
    assert float(model.hyperparameters["clustering_weight"]) == 0.0
    refit = model.fit(x, epochs=1, batch_size=32, verbose=0).history
    np.testing.assert_allclose(refit["loss"][-1], refit["reconstruction"][-1], rtol=1e-5)
    # The stopping rule: it stops before its 40 epochs, at the first check (every 3 steps) where
    # fewer than 0.1% of the examples changed cluster.
    history = model.fit_clusters(x, epochs=40, batch_size=32, tol=0.001, update_interval=3, initialize=False,
                                 verbose=0)
    assert len(history.history["loss"]) < 40 and history.changes[-1] < 0.001, history.changes
    assert all(change >= 0.001 for change in history.changes[:-1]), history.changes
    # Everything the refinement learned comes back from the file.
    model.save(tmp_path / "dec.keras")
    loaded = keras_ae.load_model(tmp_path / "dec.keras")
    np.testing.assert_array_equal(loaded.clustering.centroids.numpy(), model.clustering.centroids.numpy())
    np.testing.assert_array_equal(loaded.soft_assignments(x), model.soft_assignments(x))
    assert float(loaded.hyperparameters["clustering_weight"]) == 0.0


def test_fit_clusters_keeps_the_reconstruction_for_idec():
    x, _ = _blobs(20)
    model = tiny("dec")
    history = model.fit_clusters(x, epochs=1, batch_size=30, reconstruction_weight=0.1, n_init=2, verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    np.testing.assert_allclose(logs["loss"], 0.1 * logs["reconstruction"] + logs["clustering"], rtol=1e-5)


@pytest.mark.parametrize("option, value, message", [
    ("tol", 1.5, "Invalid value for 'tol': expected"),
    ("update_interval", 0, "Invalid value for 'update_interval': expected a positive integer"),
    ("reconstruction_weight", -1.0, "Invalid value for 'reconstruction_weight': expected"),
    ("epochs", 0, "Invalid value for 'epochs': expected a positive integer"),
])
def test_fit_clusters_refuses_bad_arguments_before_changing_anything(option, value, message):
    x, _ = _blobs(10)
    model = tiny("dec")
    before = [w.numpy().copy() for w in model.weights]
    with pytest.raises(ValueError, match=message):
        model.fit_clusters(x, **{option: value}, verbose=0)
    for a, b in zip(before, model.weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert float(model.hyperparameters["clustering_weight"]) == 0.0


def test_dec_refuses_a_bernoulli_model_on_unscaled_data_in_initialization():
    model = tiny("dec", likelihood="bernoulli")
    x, _ = _blobs(10)
    with pytest.raises(ValueError, match="Invalid value for 'x': expected values in \\[0, 1\\]"):
        model.initialize_clusters(x * 255)


def test_default_network_is_the_papers():
    model = keras_ae.build("dec", input_shape=(784,), latent_dim=10, compile=False)
    widths = [layer.units for layer in model.get_layer("encoder").layers if isinstance(layer, keras.layers.Dense)]
    assert widths == [500, 500, 2000, 10]
    assert model.clustering.centroids.shape == (10, 10)


def test_predictions_refuse_bad_inputs_with_the_parameter_named():
    x, _ = _blobs(10)
    model = tiny("dec")
    dims = ", ".join(map(str, x.shape[1:]))
    for bad, fragment in ((x[:, :-1], f"expected an array of shape (n, {dims}): examples of shape {x.shape[1:]}. "
                                      f"Received: x=<array of shape {x[:, :-1].shape}>"),
                          (x[0], f"For one example, use x[None] (shape (1, {dims}))"),
                          (np.full_like(x, np.nan), "expected finite values")):
        for method in (model.predict_clusters, model.soft_assignments, model.predict_codes):
            with pytest.raises(ValueError, match=re.escape(fragment)):
                method(bad)
