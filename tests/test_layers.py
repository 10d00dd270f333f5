"""Custom layers and regularizers: values, statistics and configs."""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers import Corruption, GaussianPosterior, KLSparsity, ReplicaSeedGenerator, SeededDropout


def kl_by_hand(h, rho):
    rho_hat = h.mean(axis=0)
    return np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))


@pytest.mark.parametrize("batch", [8, 50])
def test_kl_sparsity_term_equals_the_formula(batch):
    keras.utils.set_random_seed(0)
    model = keras_ae.build("sparse", input_shape=(6,), latent_dim=5, sparsity="kl", target=0.05,
                           sparsity_weight=0.7)
    x = np.random.default_rng(batch).uniform(size=(batch, 6)).astype("float32")
    h = model.get_layer("encoder").predict(x, verbose=0).astype("float64")
    terms = model.loss_terms(x, x)
    # The batch-level penalty is reported once per example.
    np.testing.assert_allclose(terms["sparsity"], np.full(batch, kl_by_hand(h, 0.05)), rtol=1e-4)
    # The regularizer form (for other models) gives the same value.
    np.testing.assert_allclose(float(KLSparsity(0.05).divergence(h.astype("float32"))), kl_by_hand(h, 0.05),
                               rtol=1e-4)


def test_kl_sparsity_reaches_the_model_loss():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(size=(32, 6)).astype("float32")
    plain = keras_ae.build("sparse", input_shape=(6,), latent_dim=5, sparsity_weight=0.0)
    sparse = keras_ae.build("sparse", input_shape=(6,), latent_dim=5, sparsity_weight=2.0)
    sparse.set_weights(plain.get_weights())  # weights only: the penalty weight stays 2
    h = plain.get_layer("encoder").predict(x, verbose=0).astype("float64")
    a = sparse.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    b = plain.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    np.testing.assert_allclose(a["loss"] - b["loss"], 2.0 * kl_by_hand(h, 0.05), rtol=1e-4)
    np.testing.assert_allclose(a["sparsity"], kl_by_hand(h, 0.05), rtol=1e-4)


def test_l1_sparsity_is_the_absolute_code_sum():
    keras.utils.set_random_seed(0)
    model = keras_ae.build("sparse", input_shape=(6,), latent_dim=5, sparsity="l1", sparsity_weight=0.1)
    x = np.random.default_rng(1).uniform(size=(16, 6)).astype("float32")
    h = model.get_layer("encoder").predict(x, verbose=0)
    np.testing.assert_allclose(model.loss_terms(x, x)["sparsity"], np.abs(h).sum(axis=1), rtol=1e-5)
    logs = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], logs["reconstruction"] + 0.1 * np.abs(h).sum(axis=1).mean(),
                               rtol=1e-5)


def test_kl_sparsity_config_round_trip():
    reg = KLSparsity(target=0.1, weight=3.0)
    again = keras.regularizers.deserialize(keras.regularizers.serialize(reg))
    assert isinstance(again, KLSparsity)
    assert (again.target, again.weight) == (0.1, 3.0)


@pytest.mark.parametrize(
    "noise, level, check",
    [
        ("gaussian", 0.2, lambda x, y: abs(np.std(y - x) - 0.2) < 0.01),
        ("dropout", 0.3, lambda x, y: abs(np.mean(y == 0) - 0.3) < 0.02 and np.all((y == 0) | (y == x))),
        ("salt_and_pepper", 0.4,
         lambda x, y: abs(np.mean(y != x) - 0.4) < 0.02 and abs(np.mean(y == 1) - 0.2) < 0.02),
    ],
)
def test_noise_statistics(noise, level, check):
    x = np.random.default_rng(0).uniform(0.1, 0.9, size=(200, 50)).astype("float32")
    y = keras_ae.corrupt(x, noise, level, seed=3)
    assert y.shape == x.shape and y.dtype == np.float32
    assert check(x, y)
    np.testing.assert_array_equal(y, keras_ae.corrupt(x, noise, level, seed=3))
    assert not np.array_equal(y, keras_ae.corrupt(x, noise, level, seed=4))
    layer = Corruption(noise, level, seed=1)
    assert check(x, np.asarray(layer(x, training=True)))
    np.testing.assert_array_equal(layer(x, training=False), x)


def test_corruption_config_round_trip():
    layer = Corruption("dropout", 0.25, seed=5, name="c")
    again = Corruption.from_config(layer.get_config())
    assert (again.noise, again.noise_level, again.seed, again.name) == ("dropout", 0.25, 5, "c")


def test_posterior_samples_have_the_right_moments_and_kl():
    layer = GaussianPosterior(seed=0)
    loc = np.array([[1.0, -2.0]] * 20000, "float32")
    raw = np.array([[0.0, 1.0]] * 20000, "float32")
    z = np.asarray(layer([loc, raw], training=True))
    scale = np.log1p(np.exp([0.0, 1.0])) + 1e-4
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.03)
    np.testing.assert_allclose(z.std(axis=0), scale, rtol=0.02)
    np.testing.assert_array_equal(layer([loc, raw], training=False), loc)
    kl = 0.5 * (scale**2 + np.array([1.0, -2.0]) ** 2 - 1 - 2 * np.log(scale))
    np.testing.assert_allclose(GaussianPosterior.kl_per_dimension(loc[:1], raw[:1])[0], kl, rtol=1e-5)
    from keras_ae._tfp import tfd

    closed = tfd.kl_divergence(layer.distribution(loc[:1], raw[:1]), GaussianPosterior.prior(2))
    np.testing.assert_allclose(float(closed[0]), kl.sum(), rtol=1e-5)


def test_posterior_gradients_flow_through_the_sample():
    import tensorflow as tf

    layer = GaussianPosterior(seed=0)
    loc = tf.Variable([[0.5, 0.5]])
    raw = tf.Variable([[0.0, 0.0]])
    with tf.GradientTape() as tape:
        z = layer([loc, raw], training=True)
        objective = tf.reduce_sum(z**2)
    d_loc, d_raw = tape.gradient(objective, [loc, raw])
    assert np.all(np.abs(d_loc.numpy()) > 0) and np.all(np.abs(d_raw.numpy()) > 0)


def test_posterior_scale_is_floored():
    layer = GaussianPosterior()
    q = layer.distribution(np.zeros((1, 2), "float32"), np.full((1, 2), -200.0, "float32"))
    assert np.all(q.stddev().numpy() >= 1e-4)
    assert np.isfinite(q.log_prob(np.zeros((1, 2), "float32")).numpy()).all()


def test_replica_seed_generator_matches_keras_outside_a_strategy():
    """One device: the same draws and the same state as keras.random.SeedGenerator."""
    ours, plain = ReplicaSeedGenerator(7), keras.random.SeedGenerator(7)
    for _ in range(3):
        np.testing.assert_array_equal(
            keras.random.normal((5,), seed=ours), keras.random.normal((5,), seed=plain)
        )
    np.testing.assert_array_equal(ours.state.value, plain.state.value)
    assert isinstance(GaussianPosterior(seed=1).seed_generator, ReplicaSeedGenerator)
    assert isinstance(Corruption(seed=1).seed_generator, ReplicaSeedGenerator)
    assert isinstance(SeededDropout(0.2, seed=1).seed_generator, ReplicaSeedGenerator)


def test_seeded_dropout_is_keras_dropout_with_its_own_seeds():
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(200, 50)).astype("float32")
    layer = SeededDropout(0.3, seed=2)
    y = np.asarray(layer(x, training=True))
    assert abs(np.mean(y == 0) - 0.3) < 0.02
    np.testing.assert_allclose(y[y != 0], (x / 0.7)[y != 0], rtol=1e-6)  # inverted dropout
    np.testing.assert_array_equal(layer(x, training=False), x)
    # The same masks as keras.layers.Dropout seeded alike, outside a strategy.
    plain = keras.layers.Dropout(0.3, seed=2)
    np.testing.assert_array_equal(SeededDropout(0.3, seed=2)(x, training=True), plain(x, training=True))
    np.testing.assert_array_equal(SeededDropout(0.0)(x, training=True), x)
    with pytest.raises(ValueError, match=r"Invalid value for 'rate': expected a number in \[0, 1\)"):
        SeededDropout(1.0)
    again = SeededDropout.from_config(SeededDropout(0.25, seed=5, name="d").get_config())
    assert (again.rate, again.seed, again.name) == (0.25, 5, "d")


def test_seeded_dropout_saves_its_seed_state(tmp_path):
    x = np.ones((4, 16), "float32")
    inputs = keras.Input((16,))
    model = keras.Model(inputs, SeededDropout(0.5, seed=0, name="drop")(inputs))
    model(x, training=True)  # advances the generator
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded(x, training=True), model(x, training=True))


def test_posterior_adds_its_kl_only_when_given_a_beta():
    loc = np.array([[1.0, -2.0]] * 4, "float32")
    raw = np.array([[0.0, 1.0]] * 4, "float32")
    kl = float(np.sum(GaussianPosterior.kl_per_dimension(loc[:1], raw[:1])))
    weighted = GaussianPosterior(beta=2.0, seed=0)
    weighted([loc, raw], training=True)
    np.testing.assert_allclose(float(weighted.losses[-1]), 2.0 * kl, rtol=1e-5)
    plain = GaussianPosterior(seed=0)
    plain([loc, raw], training=True)
    assert plain.losses == []
    with pytest.raises(ValueError, match="Invalid value for 'beta'"):
        GaussianPosterior(beta=-1.0)
