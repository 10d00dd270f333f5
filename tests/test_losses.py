"""Reconstruction losses: per-example sums, stable logits, configs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.losses import NegativeLogLikelihood, log_likelihood, logits_from_probs


def test_bernoulli_matches_summed_cross_entropy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 3, 3, 1)).astype("float32")
    x = rng.uniform(size=(4, 3, 3, 1)).astype("float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(4, -1).sum(axis=1)
    np.testing.assert_allclose(-log_likelihood(x, tf.constant(logits), "bernoulli"), expected, rtol=1e-5)
    loss = NegativeLogLikelihood("bernoulli")
    np.testing.assert_allclose(loss(x, tf.sigmoid(logits)), expected.mean(), rtol=1e-5)


@pytest.mark.parametrize("mode", ["eager", "graph"])
def test_saturated_sigmoid_outputs_keep_their_true_loss(mode):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Activation("sigmoid")(inputs))
    loss = NegativeLogLikelihood("bernoulli")
    x = np.full((2, 3), -60.0, "float32")
    y = np.ones((2, 3), "float32")

    def value(x, y):
        return loss(y, model(x))

    fn = tf.function(value) if mode == "graph" else value
    # Clipped probabilities would cap the loss near 3 * 16; the logits give 3 * 60.
    np.testing.assert_allclose(float(fn(x, y)), 180.0, rtol=1e-5)


def test_logits_fallback_from_plain_probabilities():
    p = np.array([[0.2, 0.5, 0.9]], "float32")
    np.testing.assert_allclose(logits_from_probs(tf.constant(p)), np.log(p / (1 - p)), rtol=1e-5)


def test_gaussian_squared_error_and_nll():
    x = np.array([[1.0, 2.0]], "float32")
    mean = tf.constant([[0.0, 0.0]])
    np.testing.assert_allclose(-log_likelihood(x, mean, "gaussian"), [5.0])
    nll = -log_likelihood(x, mean, "gaussian", scale=0.5)
    expected = 0.5 * (4 + 16) + 2 * np.log(0.5) + np.log(2 * np.pi)
    np.testing.assert_allclose(nll, [expected], rtol=1e-5)


def test_config_round_trip_and_validation():
    loss = NegativeLogLikelihood("gaussian", scale=0.3)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert (again.likelihood, again.scale) == ("gaussian", 0.3)
    with pytest.raises(ValueError, match="Invalid value for 'likelihood'"):
        NegativeLogLikelihood("poisson")
